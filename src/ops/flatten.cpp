// flatten.cpp — recorded views.
#include "gcam/ops/flatten.h"

#include "gcam/autograd.h"
#include "gcam/error.h"

namespace gcam::ops {

namespace {

class ReshapeNode : public Node {
 public:
  explicit ReshapeNode(Shape input_shape) : input_shape_(input_shape) {}
  const char* op() const override { return "reshape"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    return {needs[0] ? dy.view(input_shape_) : Tensor()};
  }

 private:
  Shape input_shape_;
};

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  GCAM_CHECK(x.defined(), "reshape: input is undefined");
  GCAM_CHECK(shape.numel() == x.numel(), "reshape: cannot reshape ", x.shape().str(), " to ",
             shape.str());
  Tensor y = x.view(shape);
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<ReshapeNode>(x.shape()), {&x}, y);
  return y;
}

Tensor flatten(const Tensor& x) {
  GCAM_CHECK(x.defined() && x.ndim() >= 1, "flatten: expected a tensor with a batch dimension");
  const int64_t batch = x.size(0);
  return reshape(x, Shape{batch, batch == 0 ? 0 : x.numel() / batch});
}

}  // namespace gcam::ops
