// elementwise.h — y[i] = f(x[i]) and dx[i] = dy[i] · f'(y[i]) for the smooth unary ops (sigmoid, tanh),
// whose derivative is a function of their output (internal).
#pragma once

#include <memory>

#include "gcam/autograd.h"
#include "op_support.h"

namespace gcam::ops::detail {

// The node of such an op: keeps y, and dx = dy · slope(y).
template <typename Slope>
class SmoothUnaryNode : public Node {
 public:
  SmoothUnaryNode(const char* name, Tensor y, Slope slope) : name_(name), y_(std::move(y)), slope_(slope) {}
  const char* op() const override { return name_; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs, const BackwardOptions&) const override {
    std::vector<Tensor> grads(1);
    if (!needs[0]) return grads;
    grads[0] = Tensor::empty(y_.shape());
    const float* g = dy.data();
    const float* y = y_.data();
    float* dx = grads[0].data();
    const int64_t n = y_.numel();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) dx[i] = g[i] * slope_(y[i]);
    return grads;
  }

 private:
  const char* name_;
  Tensor y_;
  Slope slope_;
};

// Runs y = value(x) elementwise and records the node with dx = dy · slope(y).
template <typename Value, typename Slope>
Tensor smooth_unary(const char* name, const Tensor& x, Value value, Slope slope) {
  GCAM_CHECK(x.defined(), name, ": input is undefined");
  require_cpu(name, {&x});
  Tensor y = Tensor::empty(x.shape());
  const float* in = x.data();
  float* out = y.data();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = value(in[i]);
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<SmoothUnaryNode<Slope>>(name, y, slope), {&x}, y);
  return y;
}

}  // namespace gcam::ops::detail
