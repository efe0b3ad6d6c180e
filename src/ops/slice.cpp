// slice.cpp — a range along one dimension, and its backward (formulas in gcam/ops/slice.h).
#include "gcam/ops/slice.h"

#include "along_dim.h"
#include "gcam/autograd.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class SliceNode : public Node {
 public:
  SliceNode(Shape input_shape, int dim, int64_t start) : input_shape_(input_shape), dim_(dim), start_(start) {}
  const char* op() const override { return "slice"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs, const BackwardOptions&) const override {
    std::vector<Tensor> grads(1);
    if (!needs[0]) return grads;
    const detail::AlongDim x = detail::along_dim(input_shape_, dim_, "slice backward");
    const int64_t length = dy.size(dim_);
    grads[0] = Tensor::zeros(input_shape_);
    detail::copy_rows(dy.data(), length, 0, grads[0].data(), x.extent, start_, x.outer, length, x.inner);
    return grads;
  }

 private:
  Shape input_shape_;
  int dim_;
  int64_t start_;
};

}  // namespace

Tensor slice(const Tensor& x, int dim, int64_t start, int64_t length) {
  GCAM_CHECK(x.defined(), "slice: input is undefined");
  detail::require_cpu("slice", {&x});
  const detail::AlongDim a = detail::along_dim(x.shape(), dim, "slice");
  GCAM_CHECK(start >= 0 && length >= 0 && start <= a.extent && length <= a.extent - start, "slice: [", start, ", ",
             start + length, ") is not inside dimension ", dim, " of ", x.shape().str());
  int64_t extents[Shape::kMaxDims];
  for (int d = 0; d < x.ndim(); ++d) extents[d] = d == dim ? length : x.size(d);
  Tensor y = Tensor::empty(Shape::of(extents, x.ndim()));
  detail::copy_rows(x.data(), a.extent, start, y.data(), length, 0, a.outer, length, a.inner);
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<SliceNode>(x.shape(), dim, start), {&x}, y);
  return y;
}

}  // namespace gcam::ops
