// The ReLU kink, exactly: x = [−1, 0, 1] under each backward rule, through the tape. The gradient at
// exactly 0 is 0 for the standard rule (PyTorch's convention); the rules differ only in the masks.
#include <gtest/gtest.h>

#include "gcam/autograd.h"
#include "gcam/ops/relu.h"
#include "support/compare.h"

namespace gcam {
namespace {

std::vector<float> relu_grad(ReluRule rule, const std::vector<float>& dy) {
  Tape tape;
  Tensor x = tape.watch(Tensor::from_vector(Shape{3}, {-1.0f, 0.0f, 1.0f}));
  Tensor y = ops::relu(x);
  BackwardOptions options;
  options.relu_rule = rule;
  return tape.grad(y, Tensor::from_vector(Shape{3}, dy), {x}, options)[0].to_vector();
}

TEST(ReluKink, ForwardIsExact) {
  EXPECT_TRUE(test::equal_exactly(ops::relu(Tensor::from_vector(Shape{3}, {-1.0f, 0.0f, 1.0f})), {0.0f, 0.0f, 1.0f}));
}

TEST(ReluKink, StandardRule) {  // dx = dy · [x > 0]
  EXPECT_EQ(relu_grad(ReluRule::Standard, {1, 1, 1}), (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(relu_grad(ReluRule::Standard, {-1, -1, -1}), (std::vector<float>{0, 0, -1}));
  EXPECT_EQ(relu_grad(ReluRule::Standard, {2, -3, 0.5f}), (std::vector<float>{0, 0, 0.5f}));
}

TEST(ReluKink, GuidedRule) {  // dx = dy · [x > 0] · [dy > 0]
  EXPECT_EQ(relu_grad(ReluRule::Guided, {1, 1, 1}), (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(relu_grad(ReluRule::Guided, {-1, -1, -1}), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(relu_grad(ReluRule::Guided, {2, -3, 0.5f}), (std::vector<float>{0, 0, 0.5f}));
}

TEST(ReluKink, DeconvnetRule) {  // dx = dy · [dy > 0]
  EXPECT_EQ(relu_grad(ReluRule::Deconvnet, {1, 1, 1}), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(relu_grad(ReluRule::Deconvnet, {-1, -1, -1}), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(relu_grad(ReluRule::Deconvnet, {2, -3, 0.5f}), (std::vector<float>{2, 0, 0.5f}));
}

TEST(ReluKink, ZeroUpstreamGradientGivesZeroUnderEveryRule) {
  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet})
    EXPECT_EQ(relu_grad(rule, {0, 0, 0}), (std::vector<float>{0, 0, 0})) << relu_rule_name(rule);
}

}  // namespace
}  // namespace gcam
