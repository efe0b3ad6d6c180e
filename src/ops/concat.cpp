// concat.cpp — joining along one dimension, and its backward (formulas in gcam/ops/concat.h).
#include "gcam/ops/concat.h"

#include "along_dim.h"
#include "gcam/autograd.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class ConcatNode : public Node {
 public:
  ConcatNode(std::vector<Shape> part_shapes, int dim) : part_shapes_(std::move(part_shapes)), dim_(dim) {}
  const char* op() const override { return "concat"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs, const BackwardOptions&) const override {
    std::vector<Tensor> grads(part_shapes_.size());
    const detail::AlongDim y = detail::along_dim(dy.shape(), dim_, "concat backward");
    int64_t at = 0;
    for (size_t k = 0; k < part_shapes_.size(); ++k) {
      const int64_t length = part_shapes_[k][dim_];
      if (needs[k]) {
        grads[k] = Tensor::empty(part_shapes_[k]);
        detail::copy_rows(dy.data(), y.extent, at, grads[k].data(), length, 0, y.outer, length, y.inner);
      }
      at += length;
    }
    return grads;
  }

 private:
  std::vector<Shape> part_shapes_;
  int dim_;
};

}  // namespace

Tensor concat(const std::vector<Tensor>& parts, int dim) {
  GCAM_CHECK(!parts.empty(), "concat: no tensors to join");
  std::vector<const Tensor*> inputs;
  std::vector<Shape> shapes;
  int64_t total = 0;
  for (const Tensor& p : parts) {
    GCAM_CHECK(p.defined(), "concat: a part is undefined");
    detail::require_cpu("concat", {&p});
    GCAM_CHECK(p.ndim() == parts[0].ndim(), "concat: parts ", parts[0].shape().str(), " and ", p.shape().str(),
               " differ in rank");
    for (int d = 0; d < p.ndim(); ++d)
      GCAM_CHECK(d == dim || p.size(d) == parts[0].size(d), "concat: parts ", parts[0].shape().str(), " and ",
                 p.shape().str(), " differ outside dimension ", dim);
    detail::along_dim(p.shape(), dim, "concat");
    total += p.size(dim);
    inputs.push_back(&p);
    shapes.push_back(p.shape());
  }
  int64_t extents[Shape::kMaxDims];
  for (int d = 0; d < parts[0].ndim(); ++d) extents[d] = d == dim ? total : parts[0].size(d);
  Tensor y = Tensor::empty(Shape::of(extents, parts[0].ndim()));
  const detail::AlongDim out = detail::along_dim(y.shape(), dim, "concat");
  int64_t at = 0;
  for (const Tensor& p : parts) {
    const int64_t length = p.size(dim);
    detail::copy_rows(p.data(), length, 0, y.data(), total, at, out.outer, length, out.inner);
    at += length;
  }
  if (auto tape = autograd::tape_of(inputs))
    autograd::record(tape, std::make_unique<ConcatNode>(std::move(shapes), dim), inputs, y);
  return y;
}

}  // namespace gcam::ops
