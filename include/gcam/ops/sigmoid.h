// gcam/ops/sigmoid.h — the logistic function, an LSTM's gates.
//
//   forward   y = σ(x) = 1 / (1 + e^(−x))
//   backward  dx = dy · y · (1 − y)        (the node keeps y)
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor sigmoid(const Tensor& x);  // CPU

}  // namespace gcam::ops
