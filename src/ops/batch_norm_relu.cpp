// batch_norm_relu.cpp — relu(batch_norm(x) [+ skip]) in one pass (formulas in gcam/ops/batch_norm_relu.h).
#include "gcam/ops/batch_norm_relu.h"

#include <vector>

#include "batch_norm_affine.h"
#include "gcam/autograd.h"
#include "gcam/ops/add.h"
#include "gcam/ops/batch_norm.h"
#include "gcam/ops/relu.h"
#include "op_support.h"
#include "relu_rules.h"

namespace gcam::ops {

namespace {

class BatchNormReluNode : public Node {
 public:
  BatchNormReluNode(Tensor y, std::vector<float> scale) : y_(std::move(y)), scale_(std::move(scale)) {}
  const char* op() const override { return "batch_norm_relu"; }

  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions& options) const override {
    std::vector<Tensor> grads(2);  // x, skip
    if (needs[0]) grads[0] = Tensor::empty(y_.shape());
    if (needs[1]) grads[1] = Tensor::empty(y_.shape());
    const int64_t channels = y_.size(1), plane = y_.size(2) * y_.size(3);
    const float* dyp = dy.data();
    const float* yp = y_.data();
    float* dx = needs[0] ? grads[0].data() : nullptr;
    float* dskip = needs[1] ? grads[1].data() : nullptr;
    // One pass: g = the rule's gradient, dskip = g, dx = scale·g (scale = γ·inv, as batch_norm's backward
    // multiplies), plane by plane.
    detail::with_relu_rule(options.relu_rule, [&](auto rule) {
#pragma omp parallel for schedule(static)
      for (int64_t nc = 0; nc < y_.size(0) * channels; ++nc) {
        const float scale = scale_[nc % channels];
        const int64_t base = nc * plane;
        for (int64_t i = base; i < base + plane; ++i) {
          const float g = detail::relu_gradient<rule>(dyp[i], yp[i]);
          if (dskip) dskip[i] = g;
          if (dx) dx[i] = scale * g;
        }
      }
    });
    return grads;
  }

 private:
  Tensor y_;                  // the output: the ReLU's mask is y > 0
  std::vector<float> scale_;  // (C)
};

}  // namespace

Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, const Tensor& skip, float eps) {
  detail::check_batch_norm_arguments("batch_norm_relu", x, gamma, beta, running_mean, running_var, eps);
  if (skip.defined()) check_same_shape("batch_norm_relu", "skip", x.shape(), skip.shape());
  const int64_t batch = x.size(0), channels = x.size(1), plane = x.size(2) * x.size(3);
  GCAM_CHECK(!gamma.requires_grad() && !beta.requires_grad(),
             "batch_norm_relu: γ and β get no gradient here; train with batch_norm, add and relu");

  if (detail::on_cuda("batch_norm_relu", {&x, &gamma, &beta, &running_mean, &running_var, &skip})) {
    // The composition it stands for; each op records its own node where the tape stores them.
    Tensor mean = running_mean, var = running_var;  // handles; inference leaves them as they are
    BatchNormOptions options;
    options.eps = eps;
    Tensor y = batch_norm(x, gamma, beta, mean, var, options);
    if (skip.defined()) y = add(y, skip);
    return relu(y);
  }
  std::vector<detail::ChannelAffine> affine(channels);
  for (int64_t c = 0; c < channels; ++c)
    affine[c] = detail::channel_affine(gamma.data()[c], beta.data()[c], running_mean.data()[c],
                                       running_var.data()[c], eps);
  Tensor y = Tensor::empty(x.shape());
  const float* xp = x.data();
  const float* sp = skip.defined() ? skip.data() : nullptr;
  float* yp = y.data();
  // One plane (n, c) per iteration; v > 0 ? v : 0 is relu's own expression (a NaN becomes 0 there too).
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < batch * channels; ++nc) {
    const detail::ChannelAffine& a = affine[nc % channels];
    const float* in = xp + nc * plane;
    float* out = yp + nc * plane;
    if (sp) {
      const float* s = sp + nc * plane;
      for (int64_t i = 0; i < plane; ++i) {
        const float v = detail::affine(in[i], a) + s[i];
        out[i] = v > 0.0f ? v : 0.0f;
      }
    } else {
      for (int64_t i = 0; i < plane; ++i) {
        const float v = detail::affine(in[i], a);
        out[i] = v > 0.0f ? v : 0.0f;
      }
    }
  }
  if (auto tape = autograd::tape_of({&x, &skip})) {
    std::unique_ptr<Node> node;
    if (autograd::stores_nodes(tape)) {
      std::vector<float> scale(channels);
      for (int64_t c = 0; c < channels; ++c) scale[c] = affine[c].scale;
      node = std::make_unique<BatchNormReluNode>(y, std::move(scale));
    }
    autograd::record(tape, std::move(node), {&x, &skip}, y);  // (no node while the tape stores none)
  }
  return y;
}

}  // namespace gcam::ops
