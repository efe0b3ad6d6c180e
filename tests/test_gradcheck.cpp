// Every op's backward against central finite differences, with a random upstream gradient and inputs
// kept away from kinks (ReLU at 0, ties in max pooling).
#include <gtest/gtest.h>

#include <random>

#include "gcam/ops.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

using test::gradcheck;
using test::random_normal;

struct ConvCase {
  Shape x, w;
  ops::Conv2dOptions options;
  bool bias;
};

TEST(Gradcheck, Conv2dOverOptions) {
  const std::vector<ConvCase> cases = {
      {Shape{2, 3, 6, 7}, Shape{4, 3, 3, 3}, {1, 1, 1, 1}, true},               // padded
      {Shape{1, 2, 9, 8}, Shape{3, 2, 3, 3}, {2, 1, 1, 1}, false},              // strided
      {Shape{1, 2, 9, 9}, Shape{3, 2, 3, 3}, {1, 2, 2, 1}, true},               // dilated
      {Shape{2, 4, 5, 5}, Shape{6, 2, 3, 3}, {1, 1, 1, 2}, true},               // grouped
      {Shape{2, 4, 4, 4}, Shape{5, 4, 1, 1}, {1, 0, 1, 1}, false},              // pointwise
      {Shape{1, 3, 7, 9}, Shape{2, 3, 3, 5}, {Hw(2, 1), Hw(1, 2), 1, 1}, true}, // asymmetric
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("conv case " + std::to_string(i));
    const ConvCase& c = cases[i];
    std::vector<Tensor> inputs = {random_normal(c.x, 1 + i), random_normal(c.w, 100 + i, 0.5f)};
    if (c.bias) inputs.push_back(random_normal(Shape{c.w[0]}, 200 + i));
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) {
          return ops::conv2d(in[0], in[1], c.bias ? in[2] : Tensor(), c.options);
        },
        inputs));
  }
}

TEST(Gradcheck, Linear) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::linear(in[0], in[1], in[2]); },
                        {random_normal(Shape{3, 7}, 1), random_normal(Shape{5, 7}, 2), random_normal(Shape{5}, 3)}));
}

TEST(Gradcheck, BatchNormInference) {
  Tensor mean = random_normal(Shape{3}, 4, 0.3f), var = Tensor::full(Shape{3}, 0.7f);
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return ops::batch_norm(in[0], in[1], in[2], mean, var, {}); },
      {random_normal(Shape{2, 3, 4, 3}, 1), random_normal(Shape{3}, 2), random_normal(Shape{3}, 3)}));
}

TEST(Gradcheck, BatchNormTraining) {
  ops::BatchNormOptions options;
  options.training = true;
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        // Fresh running statistics per evaluation: training mode updates them.
        Tensor mean = Tensor::zeros(Shape{3}), var = Tensor::full(Shape{3}, 1.0f);
        return ops::batch_norm(in[0], in[1], in[2], mean, var, options);
      },
      {random_normal(Shape{3, 3, 3, 2}, 1, 2.0f), random_normal(Shape{3}, 2), random_normal(Shape{3}, 3)},
      {1e-2, 2e-2, 3e-3, 64, 5}));
}

TEST(Gradcheck, ReluAwayFromTheKink) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::relu(in[0]); },
                        {test::random_away_from_zero(Shape{2, 3, 4, 4}, 1)}));
}

TEST(Gradcheck, MaxPool2dWithoutTies) {
  ops::MaxPool2dOptions resnet_stem{3, 2, 1, 1, false};
  ops::MaxPool2dOptions ceil_dilated{3, 2, 1, 2, true};
  for (const auto& options : {resnet_stem, ceil_dilated}) {
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], options); },
                          {test::random_distinct(Shape{2, 2, 9, 8}, 1)}));
  }
}

TEST(Gradcheck, AvgPool2d) {
  ops::AvgPool2dOptions include_pad{3, 2, 1, true, true};
  ops::AvgPool2dOptions exclude_pad{Hw(2, 3), Hw(1, 2), Hw(1, 1), true, false};
  for (const auto& options : {include_pad, exclude_pad}) {
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], options); },
                          {random_normal(Shape{2, 2, 7, 8}, 1)}));
  }
}

TEST(Gradcheck, AdaptiveAvgPool2d) {
  for (Hw out : {Hw(1, 1), Hw(3, 2), Hw(7, 7)}) {
    EXPECT_TRUE(gradcheck([&](const std::vector<Tensor>& in) { return ops::adaptive_avg_pool2d(in[0], out); },
                          {random_normal(Shape{2, 2, 5, 6}, 1)}));
  }
}

TEST(Gradcheck, AddAndFanOut) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::add(in[0], in[1]); },
                        {random_normal(Shape{2, 3}, 1), random_normal(Shape{2, 3}, 2)}));
  // x feeds both summands: the two gradients must be summed (the ResNet skip).
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::add(ops::relu(in[0]), in[0]); },
                        {test::random_away_from_zero(Shape{2, 3, 2, 2}, 3)}));
}

TEST(Gradcheck, FlattenIntoLinear) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::linear(ops::flatten(in[0]), in[1], Tensor()); },
                        {random_normal(Shape{2, 2, 3, 2}, 1), random_normal(Shape{4, 12}, 2)}));
}

TEST(Gradcheck, DropoutTrainingWithAFixedMask) {
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& in) {
        std::mt19937_64 rng(5);  // the same mask on every evaluation
        return ops::dropout(in[0], 0.3f, true, &rng);
      },
      {random_normal(Shape{4, 10}, 1)}));
}

TEST(Gradcheck, SoftmaxLogSoftmaxCrossEntropy) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::softmax(in[0]); },
                        {random_normal(Shape{3, 6}, 1, 2.0f)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::log_softmax(in[0]); },
                        {random_normal(Shape{3, 6}, 2, 2.0f)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], {1, 0, 5}); },
                        {random_normal(Shape{3, 6}, 3, 2.0f)}));
}

// A small residual network end to end, differentiated with respect to its input and its weights.
TEST(Gradcheck, ResidualBlockEndToEnd) {
  auto net = [](const std::vector<Tensor>& in) {
    Tensor mean = Tensor::zeros(Shape{4}), var = Tensor::full(Shape{4}, 1.0f);
    Tensor h = ops::conv2d(in[0], in[1], Tensor(), {1, 1});
    h = ops::batch_norm(h, in[2], in[3], mean, var, {});
    Tensor skip = h;
    h = ops::conv2d(ops::relu(h), in[4], Tensor(), {1, 1});
    h = ops::add(h, skip);
    h = ops::flatten(ops::adaptive_avg_pool2d(h, 1));
    return ops::linear(h, in[5], in[6]);
  };
  EXPECT_TRUE(gradcheck(net, {random_normal(Shape{2, 3, 5, 5}, 1), random_normal(Shape{4, 3, 3, 3}, 2, 0.5f),
                              random_normal(Shape{4}, 3), random_normal(Shape{4}, 4),
                              random_normal(Shape{4, 4, 3, 3}, 5, 0.5f), random_normal(Shape{3, 4}, 6),
                              random_normal(Shape{3}, 7)},
                        {1e-3, 2e-2, 3e-3, 48, 11}));  // a small step: many ReLU inputs lie near 0
}

// The captioning and VQA ops.
TEST(Gradcheck, SigmoidTanhMul) {
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::sigmoid(in[0]); }, {random_normal(Shape{3, 7}, 1, 2.0f)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::tanh(in[0]); }, {random_normal(Shape{3, 7}, 2, 1.5f)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::mul(in[0], in[1]); },
                        {random_normal(Shape{2, 3, 4}, 3), random_normal(Shape{2, 3, 4}, 4)}));
}

TEST(Gradcheck, EmbeddingSliceConcat) {
  // (no padding row: its vector gets no gradient by definition, which differences would contradict)
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::embedding(in[0], {4, 1, 4, 0, 2}); },
                        {random_normal(Shape{6, 3}, 5)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::slice(in[0], 1, 1, 3); }, {random_normal(Shape{2, 5, 3}, 6)}));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return ops::concat({in[1], in[0], in[1]}, 1); },
                        {random_normal(Shape{2, 3}, 7), random_normal(Shape{2, 2}, 8)}));  // one part used twice
}

// Two layers from a constant initial state that is no input: the weights' gradients must include the
// first step's h·W_hhᵀ (an op on that state and the weights alone would be on no tape).
TEST(Gradcheck, LstmFromAConstantState) {
  const Tensor h0 = random_normal(Shape{2, 2, 3}, 9), c0 = random_normal(Shape{2, 2, 3}, 10);
  auto net = [&](const std::vector<Tensor>& in) {
    std::vector<ops::LstmLayer> layers = {{in[1], in[2], in[3], in[4]}, {in[5], in[6], Tensor(), Tensor()}};
    return ops::lstm(in[0], layers, {h0, c0}).y;
  };
  EXPECT_TRUE(gradcheck(net, {random_normal(Shape{2, 4, 5}, 11), random_normal(Shape{12, 5}, 12, 0.5f),
                              random_normal(Shape{12, 3}, 13, 0.5f), random_normal(Shape{12}, 14), random_normal(Shape{12}, 15),
                              random_normal(Shape{12, 3}, 16, 0.5f), random_normal(Shape{12, 3}, 17, 0.5f)},
                        {1e-2, 2e-2, 3e-3, 64, 19}));
}

}  // namespace
}  // namespace gcam
