// cross_entropy.cpp — mean cross-entropy from logits, fused with its softmax for stability.
#include "gcam/ops/cross_entropy.h"

#include <cmath>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "../cuda/ops.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class CrossEntropyNode : public Node {
 public:
  CrossEntropyNode(Tensor probabilities, std::vector<int64_t> labels,
                   std::shared_ptr<cuda::DeviceArray<int32_t>> device_labels = nullptr, int64_t ignore_index = -1,
                   int64_t counted = -1)
      : probabilities_(std::move(probabilities)), labels_(std::move(labels)), device_labels_(std::move(device_labels)),
        ignore_index_(ignore_index), counted_(counted < 0 ? static_cast<int64_t>(labels_.size()) : counted) {}
  const char* op() const override { return "cross_entropy"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    if (!needs[0]) return {Tensor()};
    if (device_labels_) return {cuda::cross_entropy_backward(dy, probabilities_, *device_labels_)};
    const int64_t rows = probabilities_.size(0), classes = probabilities_.size(1);
    const float scale = counted_ ? dy.data()[0] / static_cast<float>(counted_) : 0.0f;  // dL · 1/N
    Tensor dx = Tensor::empty(probabilities_.shape());
    for (int64_t n = 0; n < rows; ++n)
      for (int64_t i = 0; i < classes; ++i) {
        if (labels_[n] == ignore_index_) {
          dx.data()[n * classes + i] = 0.0f;
          continue;
        }
        const float onehot = (i == labels_[n]) ? 1.0f : 0.0f;
        dx.data()[n * classes + i] = (probabilities_.data()[n * classes + i] - onehot) * scale;
      }
    return {dx};
  }

 private:
  Tensor probabilities_;  // softmax(logits), (N, C)
  std::vector<int64_t> labels_;
  std::shared_ptr<cuda::DeviceArray<int32_t>> device_labels_;  // the labels on the device, for CUDA logits
  int64_t ignore_index_;  // rows with this label count for nothing (−1: none, labels are never negative)
  int64_t counted_;       // the rows that count: the mean's N
};

void check_labels(const Tensor& logits, const std::vector<int64_t>& labels, int64_t ignore_index) {
  check_ndim("cross_entropy", "logits", logits, 2);
  const int64_t rows = logits.size(0), classes = logits.size(1);
  GCAM_CHECK(rows > 0, "cross_entropy: empty batch");
  GCAM_CHECK(static_cast<int64_t>(labels.size()) == rows, "cross_entropy: ", labels.size(),
             " labels for logits ", logits.shape().str());
  for (int64_t n = 0; n < rows; ++n)
    GCAM_CHECK(labels[n] == ignore_index || (labels[n] >= 0 && labels[n] < classes), "cross_entropy: label ", labels[n],
               " of row ", n, " is outside [0, ", classes, ")");
}

// The CPU loss, the labels already checked (ignore_index −1: every row counts).
Tensor cpu_cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, int64_t ignore_index) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  Tensor probabilities = Tensor::empty(logits.shape());
  double total = 0.0;
  int64_t counted = 0;
  for (int64_t n = 0; n < rows; ++n) {
    const float* x = logits.data() + n * classes;
    float m = x[0];
    for (int64_t i = 1; i < classes; ++i) m = std::max(m, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < classes; ++i) sum += std::exp(double(x[i]) - m);
    const double lse = m + std::log(sum);
    for (int64_t i = 0; i < classes; ++i)
      probabilities.data()[n * classes + i] = static_cast<float>(std::exp(double(x[i]) - lse));
    if (labels[n] == ignore_index) continue;
    total += lse - x[labels[n]];  // −log softmax(x)[t]
    ++counted;
  }
  Tensor loss = Tensor::full(Shape{1}, counted ? static_cast<float>(total / counted) : 0.0f);
  if (auto tape = autograd::tape_of({&logits}))
    autograd::record(tape, std::make_unique<CrossEntropyNode>(probabilities, labels, nullptr, ignore_index, counted),
                     {&logits}, loss);
  return loss;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, int64_t ignore_index) {
  check_labels(logits, labels, ignore_index);
  detail::require_cpu("cross_entropy with ignore_index", {&logits});
  return cpu_cross_entropy(logits, labels, ignore_index);
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels) {
  check_labels(logits, labels, -1);

  if (detail::on_cuda("cross_entropy", {&logits})) {
    auto device_labels = std::make_shared<cuda::DeviceArray<int32_t>>(
        cuda::DeviceArray<int32_t>::copy_from_host(std::vector<int32_t>(labels.begin(), labels.end())));
    cuda::CrossEntropyResult r = cuda::cross_entropy(logits, *device_labels);
    if (auto tape = autograd::tape_of({&logits}))
      autograd::record(tape, std::make_unique<CrossEntropyNode>(r.probabilities, labels, device_labels), {&logits},
                       r.loss);
    return r.loss;
  }
  return cpu_cross_entropy(logits, labels, -1);  // no label is −1: every row counts
}

}  // namespace gcam::ops
