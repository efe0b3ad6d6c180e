// mul.cpp — the elementwise product and its backward (formulas in gcam/ops/mul.h).
#include "gcam/ops/mul.h"

#include "gcam/autograd.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

// out[i] = p[i] · q[i]
Tensor product(const Tensor& p, const Tensor& q) {
  Tensor out = Tensor::empty(p.shape());
  const float* a = p.data();
  const float* b = q.data();
  float* y = out.data();
  const int64_t n = p.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
  return out;
}

class MulNode : public Node {
 public:
  MulNode(Tensor a, Tensor b) : a_(std::move(a)), b_(std::move(b)) {}
  const char* op() const override { return "mul"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs, const BackwardOptions&) const override {
    return {needs[0] ? product(dy, b_) : Tensor(), needs[1] ? product(dy, a_) : Tensor()};
  }

 private:
  Tensor a_, b_;
};

}  // namespace

Tensor mul(const Tensor& a, const Tensor& b) {
  GCAM_CHECK(a.defined() && b.defined(), "mul: an operand is undefined");
  check_same_shape("mul", "second operand", a.shape(), b.shape());
  detail::require_cpu("mul", {&a, &b});
  Tensor y = product(a, b);
  if (auto tape = autograd::tape_of({&a, &b})) autograd::record(tape, std::make_unique<MulNode>(a, b), {&a, &b}, y);
  return y;
}

}  // namespace gcam::ops
