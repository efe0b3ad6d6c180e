// layers.h — the layer types VGG and ResNet are built from, as plain data plus a run function (internal).
//
// A layer holds Tensor handles that share their impl with the model's state, so loading weights into
// the state (in place) updates the layers too. Each run function taps its output under the layer's
// torchvision path, which is how a user names a Grad-CAM target.
#pragma once

#include <random>
#include <string>

#include "gcam/models.h"
#include "gcam/ops.h"

namespace gcam::models::detail {

struct Conv {
  std::string path;
  Tensor weight;  // (K, C, kh, kw)
  Tensor bias;    // (K) or undefined
  ops::Conv2dOptions options;
};

struct BatchNorm {
  std::string path;
  Tensor weight, bias, running_mean, running_var;  // (C) each
};

struct Linear {
  std::string path;
  Tensor weight;  // (out, in)
  Tensor bias;    // (out)
};

// Taps `t` under `path` on the tape that records it, if any.
void tap(const std::string& path, const Tensor& t);

Tensor run(const Conv& conv, const Tensor& x);
Tensor run(const BatchNorm& bn, const Tensor& x, bool training);
Tensor run(const Linear& linear, const Tensor& x);
Tensor run_relu(const std::string& path, const Tensor& x);

// relu(bn(x) + skip), or relu(bn(x)) with no skip: the batch norm tapped under its path, the ReLU's
// output left to the caller to tap. Where nothing needs the batch norm's own output — inference mode,
// γ and β wanting no gradient, and no tape keeping that tap's tensor
// (autograd::tap_keeps_tensor) — one pass computes all of it (ops::batch_norm_relu) and the tap gets the
// fused result, not kept; otherwise batch_norm, add and relu run one by one.
Tensor run_bn_relu(const BatchNorm& bn, const Tensor& x, bool training, const Tensor& skip = Tensor());

// relu(conv(x)): the convolution tapped under its path, the ReLU's output left to the caller to tap. Where
// nothing needs the convolution's own output (its weight and bias wanting no gradient, and no tape
// keeping that tap's tensor), one op computes both, the bias and ReLU applied as the output is written
// (ops::conv2d_relu); otherwise conv2d and relu.
Tensor run_conv_relu(const Conv& conv, const Tensor& x);

}  // namespace gcam::models::detail
