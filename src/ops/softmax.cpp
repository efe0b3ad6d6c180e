// softmax.cpp — softmax and log-softmax over dimension 1, forward and backward.
#include "gcam/ops/softmax.h"

#include <cmath>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "../cuda/ops.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

// One row: m = max, and log Σ exp(x − m).
void row_max_logsumexp(const float* x, int64_t classes, float* max_out, double* lse_out) {
  float m = x[0];
  for (int64_t i = 1; i < classes; ++i) m = std::max(m, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < classes; ++i) sum += std::exp(double(x[i]) - m);
  *max_out = m;
  *lse_out = std::log(sum);
}

class SoftmaxNode : public Node {
 public:
  SoftmaxNode(Tensor y, bool log) : y_(std::move(y)), log_(log) {}
  const char* op() const override { return log_ ? "log_softmax" : "softmax"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    if (!needs[0]) return {Tensor()};
    if (dy.device() == Device::CUDA) return {cuda::softmax_backward(dy, y_, log_)};
    const int64_t rows = y_.size(0), classes = y_.size(1);
    Tensor dx = Tensor::empty(y_.shape());
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < rows; ++n) {
      const float* y = y_.data() + n * classes;
      const float* g = dy.data() + n * classes;
      float* out = dx.data() + n * classes;
      double dot = 0.0;  // softmax: Σ dy·y;  log_softmax: Σ dy
      for (int64_t i = 0; i < classes; ++i) dot += log_ ? g[i] : double(g[i]) * y[i];
      for (int64_t i = 0; i < classes; ++i)
        out[i] = log_ ? static_cast<float>(g[i] - std::exp(double(y[i])) * dot)
                      : static_cast<float>(y[i] * (g[i] - dot));
    }
    return {dx};
  }

 private:
  Tensor y_;  // the output, (N, C)
  bool log_;
};

Tensor softmax_impl(const Tensor& x, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_ndim(name, "input", x, 2);
  GCAM_CHECK(x.size(1) > 0, name, ": need at least one class, got ", x.shape().str());
  const int64_t rows = x.size(0), classes = x.size(1);
  Tensor y;
  if (detail::on_cuda(name, {&x})) {
    y = cuda::softmax(x, log);
  } else {
    y = Tensor::empty(x.shape());
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < rows; ++n) {
      const float* in = x.data() + n * classes;
      float* out = y.data() + n * classes;
      float m;
      double lse;
      row_max_logsumexp(in, classes, &m, &lse);
      for (int64_t i = 0; i < classes; ++i) {
        const double shifted = double(in[i]) - m - lse;  // log y
        out[i] = static_cast<float>(log ? shifted : std::exp(shifted));
      }
    }
  }
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<SoftmaxNode>(y, log), {&x}, y);
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x) { return softmax_impl(x, false); }
Tensor log_softmax(const Tensor& x) { return softmax_impl(x, true); }

}  // namespace gcam::ops
