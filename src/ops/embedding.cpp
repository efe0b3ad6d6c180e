// embedding.cpp — row lookup and its scatter-add backward (formulas in gcam/ops/embedding.h).
#include "gcam/ops/embedding.h"

#include <cstring>

#include "gcam/autograd.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class EmbeddingNode : public Node {
 public:
  EmbeddingNode(Shape weight_shape, std::vector<int64_t> ids, int64_t padding_idx)
      : weight_shape_(weight_shape), ids_(std::move(ids)), padding_idx_(padding_idx) {}
  const char* op() const override { return "embedding"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs, const BackwardOptions&) const override {
    std::vector<Tensor> grads(1);
    if (!needs[0]) return grads;
    const int64_t width = weight_shape_[1];
    grads[0] = Tensor::zeros(weight_shape_);
    float* dw = grads[0].data();
    const float* g = dy.data();
    for (size_t t = 0; t < ids_.size(); ++t) {  // in order: a word seen twice sums its gradients
      if (ids_[t] == padding_idx_) continue;
      float* row = dw + ids_[t] * width;
      for (int64_t e = 0; e < width; ++e) row[e] += g[static_cast<int64_t>(t) * width + e];
    }
    return grads;
  }

 private:
  Shape weight_shape_;
  std::vector<int64_t> ids_;
  int64_t padding_idx_;
};

}  // namespace

Tensor embedding(const Tensor& weight, const std::vector<int64_t>& ids, int64_t padding_idx) {
  check_ndim("embedding", "weight", weight, 2);
  detail::require_cpu("embedding", {&weight});
  const int64_t vocabulary = weight.size(0), width = weight.size(1), n = static_cast<int64_t>(ids.size());
  for (int64_t id : ids)
    GCAM_CHECK(id >= 0 && id < vocabulary, "embedding: word index ", id, " is outside a vocabulary of ", vocabulary);
  Tensor y = Tensor::empty(Shape{n, width});
  for (int64_t t = 0; t < n && width > 0; ++t)  // (vectors of width 0: no storage to copy)
    std::memcpy(y.data() + t * width, weight.data() + ids[t] * width, static_cast<size_t>(width) * sizeof(float));
  if (auto tape = autograd::tape_of({&weight}))
    autograd::record(tape, std::make_unique<EmbeddingNode>(weight.shape(), ids, padding_idx), {&weight}, y);
  return y;
}

}  // namespace gcam::ops
