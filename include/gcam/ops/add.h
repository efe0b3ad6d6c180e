// gcam/ops/add.h — elementwise sum of two tensors of the same shape (ResNet's skip connection).
//
//   forward   y = a + b
//   backward  da = dy,  db = dy
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor add(const Tensor& a, const Tensor& b);
// acc += x in place, unrecorded: how gradients accumulate.
void add_into(Tensor& acc, const Tensor& x);

}  // namespace gcam::ops
