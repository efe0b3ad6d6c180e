// layers.cpp — running the layer types, each output tapped under its torchvision path.
#include "layers.h"

#include "gcam/autograd.h"

namespace gcam::models::detail {

void tap(const std::string& path, const Tensor& t) { autograd::tap(path, t); }

Tensor run(const Conv& conv, const Tensor& x) {
  Tensor y = ops::conv2d(x, conv.weight, conv.bias, conv.options);
  tap(conv.path, y);
  return y;
}

Tensor run(const BatchNorm& bn, const Tensor& x, bool training) {
  ops::BatchNormOptions options;
  options.training = training;
  Tensor mean = bn.running_mean, var = bn.running_var;  // handles: training updates the model's buffers
  Tensor y = ops::batch_norm(x, bn.weight, bn.bias, mean, var, options);
  tap(bn.path, y);
  return y;
}

Tensor run(const Linear& linear, const Tensor& x) {
  Tensor y = ops::linear(x, linear.weight, linear.bias);
  tap(linear.path, y);
  return y;
}

Tensor run_relu(const std::string& path, const Tensor& x) {
  Tensor y = ops::relu(x);
  if (!path.empty()) tap(path, y);
  return y;
}

Tensor run_bn_relu(const BatchNorm& bn, const Tensor& x, bool training, const Tensor& skip) {
  const bool parameters_learn = bn.weight.requires_grad() || bn.bias.requires_grad();
  if (!training && !parameters_learn && !autograd::tap_keeps_tensor(bn.path, x)) {
    Tensor y = ops::batch_norm_relu(x, bn.weight, bn.bias, bn.running_mean, bn.running_var, skip);
    tap(bn.path, y);  // not kept: its shape and time, for --trace, and the node's label
    return y;
  }
  Tensor y = run(bn, x, training);
  if (skip.defined()) y = ops::add(y, skip);
  return ops::relu(y);
}

Tensor run_conv_relu(const Conv& conv, const Tensor& x) {
  const bool parameters_learn = conv.weight.requires_grad() || (conv.bias.defined() && conv.bias.requires_grad());
  if (!parameters_learn && !autograd::tap_keeps_tensor(conv.path, x)) {
    Tensor y = ops::conv2d_relu(x, conv.weight, conv.bias, conv.options);
    tap(conv.path, y);  // not kept: its shape and time, for --trace, and the node's label
    return y;
  }
  return ops::relu(run(conv, x));
}

}  // namespace gcam::models::detail
