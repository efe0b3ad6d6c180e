// layers.cpp — running the layer types, each output tapped under its torchvision path.
#include "layers.h"

#include <initializer_list>

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

namespace {

// Whether the output a layer taps under `path` may be fused into the next op: nothing can ask for it,
// because its parameters want no gradient and no tape keeps that tap's tensor (found through x's tape).
bool may_fuse(const std::string& path, const Tensor& x, std::initializer_list<const Tensor*> parameters) {
  for (const Tensor* p : parameters)
    if (p->defined() && p->requires_grad()) return false;
  return !autograd::tap_keeps_tensor(path, x);
}

}  // namespace

Tensor run_bn_relu(const BatchNorm& bn, const Tensor& x, bool training, const Tensor& skip) {
  if (!training && may_fuse(bn.path, x, {&bn.weight, &bn.bias})) {
    Tensor y = ops::batch_norm_relu(x, bn.weight, bn.bias, bn.running_mean, bn.running_var, skip);
    tap(bn.path, y);  // not kept: its shape and time, for --trace, and the node's label
    return y;
  }
  Tensor y = run(bn, x, training);
  if (skip.defined()) y = ops::add(y, skip);
  return ops::relu(y);
}

Tensor run_conv_relu(const Conv& conv, const Tensor& x) {
  if (may_fuse(conv.path, x, {&conv.weight, &conv.bias})) {
    Tensor y = ops::conv2d_relu(x, conv.weight, conv.bias, conv.options);
    tap(conv.path, y);  // not kept: its shape and time, for --trace, and the node's label
    return y;
  }
  return ops::relu(run(conv, x));
}

}  // namespace gcam::models::detail
