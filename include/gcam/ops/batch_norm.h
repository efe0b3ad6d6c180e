// gcam/ops/batch_norm.h — batch normalisation over (N, H, W) for each channel c.
//
//   x (N, C, H, W),  γ, β, running_mean, running_var (C),  M = N·H·W
//   inference  μ = running_mean, σ² = running_var
//   training   μ = mean(x[:, c]), σ² = mean((x[:, c] − μ)²)                 (biased, as in the forward)
//              running_mean ← (1 − m)·running_mean + m·μ
//              running_var  ← (1 − m)·running_var  + m·σ²·M/(M − 1)        (unbiased, as PyTorch)
//   forward    x̂ = (x − μ) / √(σ² + ε),   y = γ·x̂ + β
//   backward   dγ = Σ dy·x̂,  dβ = Σ dy,  and with g = dy·γ:
//     inference  dx = g / √(σ² + ε)                     (μ, σ² are constants)
//     training   dx = (M·g − Σg − x̂·Σ(g·x̂)) / (M·√(σ² + ε))   (μ, σ² depend on x)
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

struct BatchNormOptions {
  bool training = false;
  float momentum = 0.1f;
  float eps = 1e-5f;
};

// In training mode running_mean and running_var are updated in place.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, const BatchNormOptions& options = {});

// nn.BatchNorm1d on features x (N, C) (a captioner's image embedding): the same, over N alone, as
// batch_norm of x seen as (N, C, 1, 1).
Tensor batch_norm1d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, const BatchNormOptions& options = {});

}  // namespace gcam::ops
