// batch_norm_affine.h — what batch_norm and batch_norm_relu share (internal): the checks of their
// arguments, and inference batch norm as one multiply-add per element, so that both round the same way.
//
//   y = γ·(x − μ)/√(σ² + ε) + β  =  x·scale + shift,   scale = γ·inv,  shift = β − μ·scale,
//   inv = 1/√(σ² + ε) worked out in double from σ² (double: the training path's batch variance is one).
#pragma once

#include <cmath>

#include "gcam/error.h"
#include "gcam/tensor.h"

namespace gcam::ops::detail {

// x (N, C, H, W), and γ, β, running_mean, running_var all present and (C); eps positive.
inline void check_batch_norm_arguments(const char* op, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                       const Tensor& running_mean, const Tensor& running_var, float eps) {
  check_ndim(op, "input", x, 4);
  GCAM_CHECK(gamma.defined() && beta.defined() && running_mean.defined() && running_var.defined(), op,
             ": weight, bias, running_mean and running_var are all required");
  const Shape per_channel{x.size(1)};
  check_same_shape(op, "weight", per_channel, gamma.shape());
  check_same_shape(op, "bias", per_channel, beta.shape());
  check_same_shape(op, "running_mean", per_channel, running_mean.shape());
  check_same_shape(op, "running_var", per_channel, running_var.shape());
  GCAM_CHECK(eps > 0.0f, op, ": eps must be positive, got ", eps);
}

struct ChannelAffine {
  float inv, scale, shift;
};

inline ChannelAffine channel_affine(float gamma, float beta, double mu, double var, float eps) {
  ChannelAffine a;
  a.inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  a.scale = gamma * a.inv;
  a.shift = beta - static_cast<float>(mu) * a.scale;
  return a;
}

// One element of y: the expression both ops use.
inline float affine(float x, const ChannelAffine& a) { return x * a.scale + a.shift; }

}  // namespace gcam::ops::detail
