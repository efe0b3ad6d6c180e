// add.cpp — elementwise addition and in-place accumulation.
#include "gcam/ops/add.h"

#include "gcam/autograd.h"
#include "../cuda/ops.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class AddNode : public Node {
 public:
  const char* op() const override { return "add"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    // The gradient passes through unchanged to both summands; the engine copies before it adds.
    return {needs[0] ? dy : Tensor(), needs[1] ? dy : Tensor()};
  }
};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  GCAM_CHECK(a.defined() && b.defined(), "add: an operand is undefined");
  check_same_shape("add", "second operand", a.shape(), b.shape());
  Tensor y;
  if (detail::on_cuda("add", {&a, &b})) {
    y = cuda::add(a, b);
  } else {
    y = Tensor::empty(a.shape());
    const float* pa = a.data();
    const float* pb = b.data();
    float* out = y.data();
    const int64_t n = a.numel();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = pa[i] + pb[i];
  }
  if (auto tape = autograd::tape_of({&a, &b})) autograd::record(tape, std::make_unique<AddNode>(), {&a, &b}, y);
  return y;
}

void add_into(Tensor& acc, const Tensor& x) {
  check_same_shape("add_into", "addend", acc.shape(), x.shape());
  if (detail::on_cuda("add_into", {&acc, &x})) return cuda::add_into(acc, x);
  float* out = acc.data();
  const float* in = x.data();
  const int64_t n = acc.numel();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] += in[i];
}

}  // namespace gcam::ops
