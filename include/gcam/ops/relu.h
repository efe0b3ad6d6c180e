// gcam/ops/relu.h — the rectifier, and the three ways to pass a gradient back through it.
//
//   forward      y = max(x, 0)
//   backward, chosen per pass by BackwardOptions::relu_rule (gcam/autograd.h):
//     standard   dx = dy · [x > 0]            the true gradient; 0 at the kink x = 0, as in PyTorch
//     guided     dx = dy · [x > 0] · [dy > 0]  guided backprop: also drop negative gradients
//     deconvnet  dx = dy · [dy > 0]            deconvnet: ignore the forward mask, keep positive signal
//   [x > 0] equals [y > 0], so the node keeps y (which the next op usually holds anyway).
#pragma once

#include "gcam/autograd.h"
#include "gcam/tensor.h"

namespace gcam::ops {

Tensor relu(const Tensor& x);
Tensor relu_backward(const Tensor& grad_y, const Tensor& y, ReluRule rule);

}  // namespace gcam::ops
