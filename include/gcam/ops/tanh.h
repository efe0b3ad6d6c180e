// gcam/ops/tanh.h — the hyperbolic tangent, an LSTM's cell input and output squashing.
//
//   forward   y = tanh(x)
//   backward  dx = dy · (1 − y²)           (the node keeps y)
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor tanh(const Tensor& x);  // CPU

}  // namespace gcam::ops
