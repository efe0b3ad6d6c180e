// gcam/ops/mul.h — the elementwise product of two tensors of the same shape (an LSTM's gating).
//
//   forward   y = a ⊙ b
//   backward  da = dy ⊙ b,  db = dy ⊙ a    (the node keeps a and b)
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor mul(const Tensor& a, const Tensor& b);  // CPU

}  // namespace gcam::ops
