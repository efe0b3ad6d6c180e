// linear.cpp — y = x·wᵀ + b through SGEMM, and its backward (formulas in gcam/ops/linear.h).
#include "gcam/ops/linear.h"

#include "../cpu/gemm.h"
#include "../cuda/ops.h"
#include "gcam/autograd.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

void check_linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_ndim("linear", "input", x, 2);
  check_ndim("linear", "weight", w, 2);
  GCAM_CHECK(x.size(1) == w.size(1), "linear: input ", x.shape().str(), " has ", x.size(1),
             " features but weight ", w.shape().str(), " expects ", w.size(1));
  if (bias.defined())
    GCAM_CHECK(bias.ndim() == 1 && bias.size(0) == w.size(0), "linear: expected bias of shape (",
               w.size(0), "), got ", bias.shape().str());
}

class LinearNode : public Node {
 public:
  LinearNode(Tensor x_if_needed, Shape x_shape, Tensor w, bool has_bias)
      : x_(std::move(x_if_needed)), x_shape_(x_shape), w_(std::move(w)), has_bias_(has_bias) {}
  const char* op() const override { return "linear"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    const int64_t batch = x_shape_[0], in = x_shape_[1], out = w_.size(0);
    std::vector<Tensor> grads(needs.size());
    if (dy.device() == Device::CUDA) {
      if (needs[0]) grads[0] = cuda::linear_backward_input(dy, w_);
      if (needs[1]) {
        if (!x_.defined()) autograd::parameter_grad_unavailable("linear");
        grads[1] = cuda::linear_backward_weight(dy, x_);
      }
      if (has_bias_ && needs[2]) grads[2] = cuda::linear_backward_bias(dy);
      return grads;
    }
    if (needs[0]) {  // dx (N, in) = dy (N, out) · w (out, in)
      grads[0] = Tensor::empty(x_shape_);
      cpu::sgemm(false, false, batch, in, out, 1.0f, dy.data(), out, w_.data(), in, 0.0f,
                 grads[0].data(), in);
    }
    if (needs[1]) {  // dw (out, in) = dyᵀ (out, N) · x (N, in)
      if (!x_.defined()) autograd::parameter_grad_unavailable("linear");
      grads[1] = Tensor::empty(w_.shape());
      cpu::sgemm(true, false, out, in, batch, 1.0f, dy.data(), out, x_.data(), in, 0.0f,
                 grads[1].data(), in);
    }
    if (has_bias_ && needs[2]) {  // db (out) = Σ_n dy[n]
      grads[2] = Tensor::zeros(Shape{out});
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t o = 0; o < out; ++o) grads[2].data()[o] += dy.data()[n * out + o];
    }
    return grads;
  }

 private:
  Tensor x_;  // (N, in): kept only when the weight wants its gradient (dw needs it)
  Shape x_shape_;
  Tensor w_;  // (out, in): for dx
  bool has_bias_;
};

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_linear(x, w, bias);
  const int64_t batch = x.size(0), in = x.size(1), out = w.size(0);
  Tensor y;
  if (detail::on_cuda("linear", {&x, &w, &bias})) {
    y = cuda::linear(x, w, bias);
  } else {
    y = Tensor::empty(Shape{batch, out});
    if (bias.defined()) {  // start from b in every row, then add x · wᵀ
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t o = 0; o < out; ++o) y.data()[n * out + o] = bias.data()[o];
    }
    cpu::sgemm(false, true, batch, out, in, 1.0f, x.data(), in, w.data(), in,
               bias.defined() ? 1.0f : 0.0f, y.data(), out);
  }
  if (auto tape = autograd::tape_of({&x, &w, &bias}))
    autograd::record(tape, std::make_unique<LinearNode>(autograd::keep_for_parameter_grads(x, {&w}), x.shape(), w, bias.defined()),
                     {&x, &w, &bias}, y);
  return y;
}

Tensor reference::linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_linear(x, w, bias);
  detail::require_cpu("linear (reference)", {&x, &w, &bias});
  const int64_t batch = x.size(0), in = x.size(1), out = w.size(0);
  Tensor y = Tensor::empty(Shape{batch, out});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < out; ++o) {
      double sum = bias.defined() ? bias.data()[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) sum += double(x.data()[n * in + i]) * w.data()[o * in + i];
      y.data()[n * out + o] = static_cast<float>(sum);
    }
  return y;
}

}  // namespace gcam::ops
