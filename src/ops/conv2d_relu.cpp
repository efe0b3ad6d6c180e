// conv2d_relu.cpp — relu(conv2d(x, w, b)) as one op (formulas in gcam/ops/conv2d_relu.h).
#include "gcam/ops/conv2d_relu.h"

#include "conv_epilogue.h"
#include "gcam/autograd.h"
#include "gcam/ops/relu.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

class Conv2dReluNode : public Node {
 public:
  Conv2dReluNode(Tensor y, Tensor w, Shape x_shape, Conv2dOptions o)
      : y_(std::move(y)), w_(std::move(w)), x_shape_(x_shape), options_(o) {}
  const char* op() const override { return "conv2d_relu"; }

  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions& options) const override {
    std::vector<Tensor> grads(1);  // x
    if (needs[0]) grads[0] = conv2d_backward_data(relu_backward(dy, y_, options.relu_rule), w_, x_shape_, options_);
    return grads;
  }

 private:
  Tensor y_;  // (N, K, Ho, Wo): the ReLU's mask is y > 0
  Tensor w_;  // (K, C/G, kh, kw): for dx
  Shape x_shape_;
  Conv2dOptions options_;
};

}  // namespace

Tensor conv2d_relu(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& options) {
  GCAM_CHECK(x.defined() && w.defined(), "conv2d_relu: input and weight are required");
  GCAM_CHECK(!w.requires_grad() && !(bias.defined() && bias.requires_grad()),
             "conv2d_relu: the weight and bias get no gradient here; train with conv2d and relu");
  if (detail::on_cuda("conv2d_relu", {&x, &w, &bias})) return relu(conv2d(x, w, bias, options));  // the two ops
  Tensor y = detail::conv2d_forward_cpu(x, w, bias, options, true);
  if (auto tape = autograd::tape_of({&x})) {
    std::unique_ptr<Node> node;
    if (autograd::stores_nodes(tape)) node = std::make_unique<Conv2dReluNode>(y, w, x.shape(), options);
    autograd::record(tape, std::move(node), {&x}, y);  // (no node while the tape stores none)
  }
  return y;
}

}  // namespace gcam::ops
