// gcam/ops/linear.h — a fully connected layer, with torchvision's weight layout.
//
//   x (N, in),  w (out, in),  b (out) or undefined,  y (N, out)
//   forward   y = x · wᵀ + b
//   backward  dx = dy · w,   dw = dyᵀ · x,   db = Σ_n dy[n]
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);

namespace reference {
Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias);  // plain triple loop
}

}  // namespace gcam::ops
