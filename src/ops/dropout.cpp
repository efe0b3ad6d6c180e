// dropout.cpp — inverted dropout: identity at inference, a scaled Bernoulli mask in training.
#include "gcam/ops/dropout.h"

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "../cuda/ops.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class DropoutNode : public Node {
 public:
  explicit DropoutNode(Tensor scale) : scale_(std::move(scale)) {}
  const char* op() const override { return "dropout"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    if (!needs[0]) return {Tensor()};
    if (dy.device() == Device::CUDA) return {cuda::multiply(dy, scale_)};
    Tensor dx = Tensor::empty(dy.shape());
    float* out = dx.data();
    const float *in = dy.data(), *mask = scale_.data();
    for (int64_t i = 0; i < dy.numel(); ++i) out[i] = in[i] * mask[i];
    return {dx};
  }

 private:
  Tensor scale_;  // m / (1 − p): 0 or 1/(1−p) per element
};

class IdentityNode : public Node {
 public:
  const char* op() const override { return "dropout (inference)"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    return {needs[0] ? dy : Tensor()};
  }
};

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, std::mt19937_64* rng) {
  GCAM_CHECK(x.defined(), "dropout: input is undefined");
  GCAM_CHECK(p >= 0.0f && p < 1.0f, "dropout: probability must be in [0, 1), got ", p);
  const bool cuda = detail::on_cuda("dropout", {&x});
  auto tape = autograd::tape_of({&x});
  if (!training || p == 0.0f) {
    // A recorded identity keeps the tape's picture of the model complete (and --trace honest).
    Tensor y = x.detach();
    if (tape) autograd::record(tape, std::make_unique<IdentityNode>(), {&x}, y);
    return y;
  }
  GCAM_CHECK(rng != nullptr, "dropout: training mode needs a random generator");
  std::bernoulli_distribution keep(1.0 - p);
  const float kept_scale = 1.0f / (1.0f - p);
  // The mask is drawn on the host from the same generator on either device, so a seeded run drops
  // the same units on the CPU and on the GPU.
  Tensor scale = Tensor::empty(x.shape());
  float* mask = scale.data();
  for (int64_t i = 0; i < x.numel(); ++i) mask[i] = keep(*rng) ? kept_scale : 0.0f;
  Tensor y;
  if (cuda) {
    scale = scale.to(Device::CUDA);
    y = cuda::multiply(x, scale);
  } else {
    y = Tensor::empty(x.shape());
    float* out = y.data();
    const float* in = x.data();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = in[i] * mask[i];
  }
  if (tape) autograd::record(tape, std::make_unique<DropoutNode>(scale), {&x}, y);
  return y;
}

}  // namespace gcam::ops
