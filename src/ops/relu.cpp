// relu.cpp — ReLU forward and backward (the three backward rules: relu_rules.h; formulas in gcam/ops/relu.h).
#include "gcam/ops/relu.h"

#include "../cuda/ops.h"
#include "op_support.h"
#include "relu_rules.h"

namespace gcam::ops {

namespace {

class ReluNode : public Node {
 public:
  explicit ReluNode(Tensor y) : y_(std::move(y)) {}
  const char* op() const override { return "relu"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions& options) const override {
    std::vector<Tensor> grads(1);
    if (needs[0]) grads[0] = relu_backward(dy, y_, options.relu_rule);
    return grads;
  }

 private:
  Tensor y_;  // the output: y > 0 exactly where x > 0
};

}  // namespace

Tensor relu(const Tensor& x) {
  GCAM_CHECK(x.defined(), "relu: input is undefined");
  Tensor y;
  if (detail::on_cuda("relu", {&x})) {
    y = cuda::relu(x);
  } else {
    y = Tensor::empty(x.shape());
    const float* in = x.data();
    float* out = y.data();
    const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
  }
  if (auto tape = autograd::tape_of({&x})) autograd::record(tape, std::make_unique<ReluNode>(y), {&x}, y);
  return y;
}

Tensor relu_backward(const Tensor& grad_y, const Tensor& y, ReluRule rule) {
  check_same_shape("relu backward", "output gradient", y.shape(), grad_y.shape());
  if (detail::on_cuda("relu backward", {&grad_y, &y})) return cuda::relu_backward(grad_y, y, rule);
  Tensor dx = Tensor::empty(y.shape());
  const float* dy = grad_y.data();
  const float* yp = y.data();
  float* out = dx.data();
  const int64_t n = y.numel();
  detail::with_relu_rule(rule, [&](auto r) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = detail::relu_gradient<r>(dy[i], yp[i]);
  });
  return dx;
}

}  // namespace gcam::ops
