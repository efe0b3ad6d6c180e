// batch_norm.cpp — batch normalisation, inference and training, forward and backward
// (formulas in gcam/ops/batch_norm.h). Channels are independent, so every loop is parallel over c.
#include "gcam/ops/batch_norm.h"

#include <cmath>

#include "../cpu/lane_sums.h"
#include "../cuda/ops.h"
#include "batch_norm_affine.h"
#include "gcam/autograd.h"
#include "gcam/ops/flatten.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class BatchNormNode : public Node {
 public:
  BatchNormNode(Tensor x_if_needed, Shape x_shape, Tensor gamma, Tensor mean, Tensor invstd, bool training)
      : x_(std::move(x_if_needed)), x_shape_(x_shape), gamma_(std::move(gamma)), mean_(std::move(mean)),
        invstd_(std::move(invstd)), training_(training) {}
  const char* op() const override { return "batch_norm"; }

  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    const int64_t batch = x_shape_[0], channels = x_shape_[1], plane = x_shape_[2] * x_shape_[3];
    const double count = static_cast<double>(batch * plane);  // M
    // x̂ is needed for dγ and for the training-mode dx; inference dx = γ·dy/√(σ² + ε) is without it.
    const bool uses_x = needs[1] || (needs[0] && training_);
    if (uses_x && !x_.defined()) autograd::parameter_grad_unavailable("batch_norm");
    if (dy.device() == Device::CUDA)
      return cuda::batch_norm_backward(dy, uses_x ? x_ : Tensor(), gamma_, mean_, invstd_, training_, needs);
    std::vector<Tensor> grads(3);
    if (needs[0]) grads[0] = Tensor::empty(x_shape_);
    if (needs[1]) grads[1] = Tensor::empty(Shape{channels});
    if (needs[2]) grads[2] = Tensor::empty(Shape{channels});
    const float* xp = uses_x ? x_.data() : nullptr;
    const float* dyp = dy.data();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < channels; ++c) {
      const float mu = mean_.data()[c], inv = invstd_.data()[c], gamma = gamma_.data()[c];
      double sum_dy = 0.0, sum_dy_xc = 0.0;  // Σ dy and Σ dy·(x − μ) over (N, H, W), plane by plane
      for (int64_t n = 0; n < batch; ++n) {
        const float* d = dyp + (n * channels + c) * plane;
        sum_dy += cpu::lane_sum(plane, [&](int64_t i) { return double(d[i]); });
        if (xp) {
          const float* x = xp + (n * channels + c) * plane;
          sum_dy_xc += cpu::lane_sum(plane, [&](int64_t i) { return double(d[i]) * (double(x[i]) - mu); });
        }
      }
      const double sum_dy_xhat = sum_dy_xc * inv;
      if (needs[1]) grads[1].data()[c] = static_cast<float>(sum_dy_xhat);
      if (needs[2]) grads[2].data()[c] = static_cast<float>(sum_dy);
      if (!needs[0]) continue;
      // With g = γ·dy, Σg = γ·Σdy and Σg·x̂ = γ·Σdy·x̂, the training dx is, per element,
      //   dx = (g − Σg/M − x̂·Σg·x̂/M)·inv = a·dy + b·(x − μ) + c,
      //   a = γ·inv,  b = −inv²·γ·Σdy·x̂/M,  c = −inv·γ·Σdy/M      (b = c = 0 in inference)
      // with the constants in double and each element in float (x − μ first: no large terms cancel).
      const float a = gamma * inv;
      const float b = training_ ? static_cast<float>(-double(inv) * inv * gamma * sum_dy_xhat / count) : 0.0f;
      const float shift = training_ ? static_cast<float>(-double(inv) * gamma * sum_dy / count) : 0.0f;
      float* dx = grads[0].data();
      for (int64_t n = 0; n < batch; ++n) {
        const int64_t base = (n * channels + c) * plane;
        if (training_) {
          for (int64_t i = 0; i < plane; ++i) dx[base + i] = a * dyp[base + i] + b * (xp[base + i] - mu) + shift;
        } else {
          for (int64_t i = 0; i < plane; ++i) dx[base + i] = a * dyp[base + i];
        }
      }
    }
    return grads;
  }

 private:
  Tensor x_;       // (N, C, H, W): kept only in training or when γ wants its gradient
  Shape x_shape_;
  Tensor gamma_;   // (C)
  Tensor mean_;    // (C) μ used in the forward pass (a snapshot: running stats change in training)
  Tensor invstd_;  // (C) 1/√(σ² + ε)
  bool training_;
};

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, const BatchNormOptions& o) {
  detail::check_batch_norm_arguments("batch_norm", x, gamma, beta, running_mean, running_var, o.eps);
  const int64_t batch = x.size(0), channels = x.size(1), plane = x.size(2) * x.size(3);
  const Shape per_channel{channels};
  GCAM_CHECK(o.momentum >= 0.0f && o.momentum <= 1.0f, "batch_norm: momentum must be in [0, 1], got ",
             o.momentum);
  const int64_t count = batch * plane;
  GCAM_CHECK(!o.training || count > 1, "batch_norm: training needs more than one value per channel, got input ",
             x.shape().str());
  Tensor mean, invstd, y;
  if (detail::on_cuda("batch_norm", {&x, &gamma, &beta, &running_mean, &running_var})) {
    cuda::BatchNormResult r = cuda::batch_norm(x, gamma, beta, running_mean, running_var, o.training, o.momentum, o.eps);
    y = r.y;
    mean = r.mean;
    invstd = r.invstd;
  } else {
    mean = Tensor::empty(per_channel);
    invstd = Tensor::empty(per_channel);
    y = Tensor::empty(x.shape());
    const float* xp = x.data();
    float* yp = y.data();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < channels; ++c) {
      double mu = running_mean.data()[c], var = running_var.data()[c];
      if (o.training) {  // batch statistics, in double: M can be in the millions
        // (plane by plane, each plane's sum in lanes: src/cpu/lane_sums.h)
        double sum = 0.0, sum_sq = 0.0;
        for (int64_t n = 0; n < batch; ++n) {
          const float* p = xp + (n * channels + c) * plane;
          sum += cpu::lane_sum(plane, [&](int64_t i) { return double(p[i]); });
        }
        mu = sum / count;
        for (int64_t n = 0; n < batch; ++n) {
          const float* p = xp + (n * channels + c) * plane;
          sum_sq += cpu::lane_sum(plane, [&](int64_t i) { return (p[i] - mu) * (p[i] - mu); });
        }
        var = sum_sq / count;
        running_mean.data()[c] = static_cast<float>((1.0 - o.momentum) * running_mean.data()[c] + o.momentum * mu);
        running_var.data()[c] = static_cast<float>((1.0 - o.momentum) * running_var.data()[c] +
                                                   o.momentum * var * count / (count - 1));
      }
      const detail::ChannelAffine a = detail::channel_affine(gamma.data()[c], beta.data()[c], mu, var, o.eps);
      mean.data()[c] = static_cast<float>(mu);
      invstd.data()[c] = a.inv;
      for (int64_t n = 0; n < batch; ++n) {
        const int64_t base = (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) yp[base + i] = detail::affine(xp[base + i], a);  // x·scale + shift
      }
    }
  }
  if (auto tape = autograd::tape_of({&x, &gamma, &beta})) {
    Tensor keep = o.training ? x : autograd::keep_for_parameter_grads(x, {&gamma});
    autograd::record(tape, std::make_unique<BatchNormNode>(keep, x.shape(), gamma, mean, invstd, o.training),
                     {&x, &gamma, &beta}, y);
  }
  return y;
}

Tensor batch_norm1d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, const BatchNormOptions& options) {
  check_ndim("batch_norm1d", "input", x, 2);
  const Tensor y = batch_norm(reshape(x, Shape{x.size(0), x.size(1), 1, 1}), gamma, beta, running_mean, running_var, options);
  return reshape(y, x.shape());
}

}  // namespace gcam::ops
