// gcam/ops/flatten.h — reshaping without copying: the output is a view of the input's storage.
//
//   flatten   x (N, d1, …) → (N, d1·…),  the step between a CNN's features and its classifier
//   reshape   x → any shape with the same element count
//   backward  dx = dy viewed with x's shape
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor flatten(const Tensor& x);
Tensor reshape(const Tensor& x, const Shape& shape);

}  // namespace gcam::ops
