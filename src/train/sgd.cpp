// sgd.cpp — stochastic gradient descent with momentum and weight decay (formulas in gcam/train.h).
#include <cmath>

#include "gcam/error.h"
#include "gcam/train.h"

namespace gcam::train {

Sgd::Sgd(std::vector<Tensor> parameters, SgdOptions options) : parameters_(std::move(parameters)), options_(options) {
  GCAM_CHECK(options.momentum >= 0.0f && options.momentum < 1.0f, "sgd: momentum ", options.momentum, " outside [0, 1)");
  GCAM_CHECK(options.weight_decay >= 0.0f, "sgd: negative weight decay ", options.weight_decay);
  for (const Tensor& p : parameters_) {
    GCAM_CHECK(p.requires_grad(), "sgd: a parameter does not require grad (call set_requires_grad)");
    velocity_.emplace_back(static_cast<size_t>(p.numel()), 0.0f);
  }
}

void Sgd::zero_grad() {
  for (Tensor& p : parameters_) p.zero_grad();
}

void Sgd::step(float lr) {
  GCAM_CHECK(std::isfinite(lr) && lr >= 0.0f, "sgd: bad learning rate ", lr);
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& p = parameters_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;  // the loss did not depend on it this step
    GCAM_CHECK(p.device() == Device::CPU, "sgd: the update runs on the CPU; train with the model on the CPU");
    const float decay = p.ndim() >= 2 ? options_.weight_decay : 0.0f;
    float* w = p.data();             // (numel) the parameter, updated in place
    const float* dw = g.data();      // (numel) ∂L/∂p
    float* v = velocity_[i].data();  // (numel)
    const int64_t n = p.numel();
    for (int64_t j = 0; j < n; ++j) {
      v[j] = options_.momentum * v[j] + dw[j] + decay * w[j];
      w[j] -= lr * v[j];
    }
  }
}

std::vector<Tensor> trainable_parameters(models::Model& model) {
  model.set_requires_grad(true);
  std::vector<Tensor> params;
  for (const models::NamedTensor& e : model.state())
    if (!e.buffer) params.push_back(e.tensor);
  return params;
}

float cosine_lr(float base, int64_t step, int64_t total, int64_t warmup) {
  if (step < warmup) return base * static_cast<float>(step + 1) / static_cast<float>(warmup);
  if (step >= total) return 0.0f;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return static_cast<float>(base * 0.5 * (1.0 + std::cos(3.14159265358979 * progress)));
}

}  // namespace gcam::train
