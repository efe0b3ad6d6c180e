// gcam/ops/softmax.h — softmax and log-softmax over the classes of x (N, C).
//
//   softmax      y[n,i] = exp(x[n,i] − m) / Σ_j exp(x[n,j] − m),   m = max_j x[n,j] (for stability)
//                dx = y ⊙ (dy − Σ_i dy[n,i]·y[n,i])
//   log_softmax  y[n,i] = x[n,i] − m − log Σ_j exp(x[n,j] − m)
//                dx = dy − exp(y) · Σ_i dy[n,i]
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);

}  // namespace gcam::ops
