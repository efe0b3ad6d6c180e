// gcam/ops/batch_norm_relu.h — inference batch norm, an optional skip connection and ReLU in one pass.
//
//   x, skip (N, C, H, W),  γ, β, running_mean μ, running_var σ² (C)
//   forward    y = max(0, x·scale + shift [+ skip]),   scale = γ/√(σ² + ε),  shift = β − μ·scale
//   backward   g = the ReLU's rule applied to dy (gcam/ops/relu.h: standard, guided or deconvnet)
//              dskip = g,   dx = scale·g                       (μ, σ² are constants in inference)
//
// The same values, bit for bit, forward and backward, as relu(batch_norm(x) [+ skip]) in inference mode
// (gcam/ops/batch_norm.h, add.h, relu.h); but x is read once and y written once, where the three ops
// read and write a tensor of x's size each, and the node keeps only y. γ and β get no gradient: it
// refuses parameters that require one (train with the three ops). Models call it where nothing needs
// the batch norm's own output (src/models/layers.cpp).
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops {

// `skip` may be undefined: then y = relu(batch_norm(x)).
Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, const Tensor& skip = Tensor(), float eps = 1e-5f);

}  // namespace gcam::ops
