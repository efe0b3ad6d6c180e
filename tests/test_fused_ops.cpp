// The fused ops give the bits of the ops they stand for, forward and backward under every ReLU rule:
// batch norm → (+ skip) → ReLU (gcam/ops/batch_norm_relu.h) and convolution → ReLU (conv2d_relu.h, on
// each of the CPU's convolution paths). And the models that fuse them where nothing needs the first op's
// own output (src/models/layers.cpp) compute the same logits, the same gradients at their target layers
// and at the input, and the same list of tapped layers, whether they fuse or not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "gcam/models.h"
#include "gcam/ops.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

::testing::AssertionResult same_bits(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << actual.shape().str() << " vs " << expected.shape().str();
  for (int64_t i = 0; i < actual.numel(); ++i) {
    if (std::memcmp(actual.data() + i, expected.data() + i, sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << actual.data()[i] << " vs "
                                           << expected.data()[i];
  }
  return ::testing::AssertionSuccess();
}

struct Norm {
  Tensor gamma, beta, mean, var;  // (C)
};

Norm random_norm(int64_t channels, unsigned seed) {
  Norm n{test::random_normal(Shape{channels}, seed), test::random_normal(Shape{channels}, seed + 1),
         test::random_normal(Shape{channels}, seed + 2), test::random_normal(Shape{channels}, seed + 3)};
  for (int64_t c = 0; c < channels; ++c) n.var.data()[c] = 0.1f + std::fabs(n.var.data()[c]);
  return n;
}

// relu(batch_norm(x) [+ skip]), op by op.
Tensor three_ops(const Tensor& x, const Norm& n, const Tensor& skip) {
  Tensor mean = n.mean, var = n.var;
  Tensor y = ops::batch_norm(x, n.gamma, n.beta, mean, var);
  if (skip.defined()) y = ops::add(y, skip);
  return ops::relu(y);
}

// x with a NaN and both infinities among normal values.
Tensor awkward_input(const Shape& shape, unsigned seed) {
  Tensor x = test::random_normal(shape, seed, 2.0f);
  x.data()[3] = std::numeric_limits<float>::quiet_NaN();
  x.data()[10] = std::numeric_limits<float>::infinity();
  x.data()[17] = -std::numeric_limits<float>::infinity();
  return x;
}

TEST(BatchNormRelu, ForwardEqualsTheThreeOpsBitForBit) {
  const Shape shape{3, 5, 7, 9};  // 63-pixel planes: a tail after every vector width
  const Norm n = random_norm(5, 11);
  const Tensor x = awkward_input(shape, 21);
  const Tensor skip = test::random_normal(shape, 31);
  EXPECT_TRUE(same_bits(ops::batch_norm_relu(x, n.gamma, n.beta, n.mean, n.var), three_ops(x, n, Tensor())));
  EXPECT_TRUE(same_bits(ops::batch_norm_relu(x, n.gamma, n.beta, n.mean, n.var, skip), three_ops(x, n, skip)));
}

TEST(BatchNormRelu, BackwardEqualsTheThreeOpsBitForBitUnderEveryRule) {
  const Shape shape{2, 4, 5, 6};
  const Norm n = random_norm(4, 41);
  const Tensor x0 = test::random_normal(shape, 51), skip0 = test::random_normal(shape, 52);
  const Tensor seed = test::random_normal(shape, 53);  // negative and positive dy: the rules differ
  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
    BackwardOptions options;
    options.relu_rule = rule;
    Tape fused_tape, ops_tape;
    const Tensor x = fused_tape.watch(x0), skip = fused_tape.watch(skip0);
    const Tensor y = ops::batch_norm_relu(x, n.gamma, n.beta, n.mean, n.var, skip);
    const Tensor x_ops = ops_tape.watch(x0), skip_ops = ops_tape.watch(skip0);
    const Tensor y_ops = three_ops(x_ops, n, skip_ops);
    ASSERT_EQ(fused_tape.size(), 1u);  // one node, where the ops record three
    ASSERT_EQ(ops_tape.size(), 3u);
    const auto grads = fused_tape.grad(y, seed, {x, skip}, options);
    const auto expected = ops_tape.grad(y_ops, seed, {x_ops, skip_ops}, options);
    EXPECT_TRUE(same_bits(grads[0], expected[0])) << "dx, rule " << static_cast<int>(rule);
    EXPECT_TRUE(same_bits(grads[1], expected[1])) << "dskip, rule " << static_cast<int>(rule);
  }
}

TEST(BatchNormRelu, RefusesParametersThatWantGradientsAndMismatchedShapes) {
  Norm n = random_norm(3, 61);
  const Tensor x = test::random_normal(Shape{1, 3, 4, 4}, 62);
  n.gamma.set_requires_grad(true);
  EXPECT_THROW(ops::batch_norm_relu(x, n.gamma, n.beta, n.mean, n.var), InputError);
  n.gamma.set_requires_grad(false);
  EXPECT_THROW(ops::batch_norm_relu(x, n.gamma, n.beta, n.mean, n.var, test::random_normal(Shape{1, 3, 4, 5}, 63)),
               InputError);
  EXPECT_THROW(ops::batch_norm_relu(x, test::random_normal(Shape{4}, 64), n.beta, n.mean, n.var), InputError);
}

struct ConvCase {
  const char* what;
  Shape x, w;
  ops::Conv2dOptions options;
  bool bias;
};

const ConvCase kConvCases[] = {
    {"few input channels (direct)", Shape{2, 3, 19, 17}, Shape{8, 3, 3, 3}, {1, 1}, true},
    {"3x3 stride 1 (Winograd), odd output", Shape{2, 6, 15, 13}, Shape{5, 6, 3, 3}, {1, 1}, true},
    {"3x3 stride 1 (Winograd), no bias", Shape{1, 8, 16, 16}, Shape{4, 8, 3, 3}, {1, 1}, false},
    {"strided (im2col)", Shape{2, 6, 15, 13}, Shape{5, 6, 3, 3}, {2, 1}, true},
    {"1x1, grouped (im2col)", Shape{2, 8, 7, 7}, Shape{6, 4, 1, 1}, {1, 0, 1, 2}, true},
};

TEST(Conv2dRelu, ForwardEqualsConvThenReluBitForBitOnEveryPath) {
  unsigned seed = 200;
  for (const ConvCase& c : kConvCases) {
    SCOPED_TRACE(c.what);
    Tensor x = awkward_input(c.x, seed++);
    const Tensor w = test::random_normal(c.w, seed++, 0.3f);
    const Tensor b = c.bias ? test::random_normal(Shape{c.w[0]}, seed++) : Tensor();
    EXPECT_TRUE(same_bits(ops::conv2d_relu(x, w, b, c.options), ops::relu(ops::conv2d(x, w, b, c.options))));
  }
}

TEST(Conv2dRelu, BackwardEqualsConvThenReluBitForBitUnderEveryRule) {
  unsigned seed = 300;
  for (const ConvCase& c : kConvCases) {
    SCOPED_TRACE(c.what);
    const Tensor x0 = test::random_normal(c.x, seed++);
    const Tensor w = test::random_normal(c.w, seed++, 0.3f);
    const Tensor b = c.bias ? test::random_normal(Shape{c.w[0]}, seed++) : Tensor();
    const Tensor dy = test::random_normal(ops::conv2d_output_shape(c.x, c.w, c.options), seed++);
    for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
      BackwardOptions options;
      options.relu_rule = rule;
      Tape fused_tape, ops_tape;
      const Tensor x = fused_tape.watch(x0), x_ops = ops_tape.watch(x0);
      const Tensor y = ops::conv2d_relu(x, w, b, c.options);
      const Tensor y_ops = ops::relu(ops::conv2d(x_ops, w, b, c.options));
      ASSERT_EQ(fused_tape.size(), 1u);
      EXPECT_TRUE(same_bits(fused_tape.grad(y, dy, {x}, options)[0], ops_tape.grad(y_ops, dy, {x_ops}, options)[0]))
          << "rule " << static_cast<int>(rule);
    }
  }
}

TEST(Conv2dRelu, RefusesParametersThatWantGradients) {
  const Tensor x = test::random_normal(Shape{1, 2, 6, 6}, 70);
  Tensor w = test::random_normal(Shape{3, 2, 3, 3}, 71), b = test::random_normal(Shape{3}, 72);
  w.set_requires_grad(true);
  EXPECT_THROW(ops::conv2d_relu(x, w, b), InputError);
  w.set_requires_grad(false);
  b.set_requires_grad(true);
  EXPECT_THROW(ops::conv2d_relu(x, w, b), InputError);
}

// A model whose batch norms are not the identity: random γ, β and running statistics (and random
// convolution biases, which VGG has: every 1-D tensor outside the classifier).
std::unique_ptr<models::Model> model_with_random_norms(std::unique_ptr<models::Model> model) {
  model->initialize(7);
  unsigned seed = 100;
  for (const models::NamedTensor& e : model->state()) {
    if (e.tensor.ndim() != 1 || e.name.rfind("fc.", 0) == 0 || e.name.rfind("classifier", 0) == 0) continue;
    const bool variance = e.name.find("running_var") != std::string::npos;
    const bool scale = !e.buffer && e.name.find(".weight") != std::string::npos;
    Tensor r = test::random_normal(e.tensor.shape(), seed++, 0.5f);
    Tensor t = e.tensor;
    for (int64_t i = 0; i < r.numel(); ++i)
      t.data()[i] = variance ? 0.5f + std::fabs(r.data()[i]) : scale ? 1.0f + r.data()[i] : r.data()[i];
  }
  return model;
}

struct Pass {
  Tensor logits, at_target, at_input;
  std::vector<std::string> taps;
  size_t nodes;
};

// One pass of the model under a tape set up as `explain` does for Grad-CAM alone (keep the target,
// store from it: fused before and after it), for Grad-CAM with guided backprop (keep the target, store
// everything: fused with nodes), or keeping every tap (nothing fused).
enum class Mode { FromTarget, Everything, KeepAllTaps };

Pass run(models::Model& model, const Tensor& input, const std::string& target, Mode mode, ReluRule rule) {
  Tape tape;
  if (mode != Mode::KeepAllTaps) tape.keep_taps_only({target});
  if (mode == Mode::FromTarget) tape.record_from(target);
  const Tensor x = tape.watch(input);
  Pass p;
  p.logits = model.forward(x);
  Tensor seed = Tensor::zeros(p.logits.shape());
  for (int64_t n = 0; n < seed.size(0); ++n) seed.data()[n * seed.size(1) + 2] = 1.0f;  // class 2
  BackwardOptions options;
  options.relu_rule = rule;
  if (mode == Mode::FromTarget) {
    p.at_target = tape.grad(p.logits, seed, {tape.tapped(target)}, options)[0];
  } else {
    const auto grads = tape.grad(p.logits, seed, {tape.tapped(target), x}, options);
    p.at_target = grads[0];
    p.at_input = grads[1];
  }
  p.taps = tape.tap_names();
  p.nodes = tape.size();
  return p;
}

void expect_fusing_changes_nothing(models::Model& model, const Shape& input_shape,
                                   const std::vector<std::string>& targets) {
  const Tensor input = test::random_normal(input_shape, 5);
  const Tensor plain_logits = model.forward(input);  // no tape: every batch norm → ReLU fused, no node
  for (const std::string& target : targets) {
    SCOPED_TRACE(model.architecture() + " at " + target);
    for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided}) {
      const Pass unfused = run(model, input, target, Mode::KeepAllTaps, rule);
      const Pass from_target = run(model, input, target, Mode::FromTarget, rule);
      const Pass everything = run(model, input, target, Mode::Everything, rule);
      EXPECT_TRUE(same_bits(plain_logits, unfused.logits));
      EXPECT_TRUE(same_bits(from_target.logits, unfused.logits));
      EXPECT_TRUE(same_bits(everything.logits, unfused.logits));
      EXPECT_TRUE(same_bits(from_target.at_target, unfused.at_target));
      EXPECT_TRUE(same_bits(everything.at_target, unfused.at_target));
      EXPECT_TRUE(same_bits(everything.at_input, unfused.at_input));
      EXPECT_EQ(from_target.taps, unfused.taps);  // every layer still named, in the same order
      EXPECT_EQ(everything.taps, unfused.taps);
      EXPECT_LT(everything.nodes, unfused.nodes);  // it did fuse
    }
  }
}

TEST(BatchNormReluInModels, BasicBlockResNetIsTheSameFusedOrNot) {
  auto model = model_with_random_norms(models::make_model("fashion_resnet"));
  // a stage's end, a block's first batch norm (the target: that one runs unfused), the stem's ReLU
  expect_fusing_changes_nothing(*model, Shape{2, 3, 32, 32}, {"layer3", "layer2.0.bn1", "relu"});
}

TEST(BatchNormReluInModels, BottleneckResNetIsTheSameFusedOrNot) {
  models::ResNetConfig c;
  c.name = "small_bottleneck";
  c.bottleneck = true;
  c.blocks = {2, 1, 0, 0};
  c.widths = {8, 16, 0, 0};
  c.stem_width = 8;
  c.num_classes = 5;
  auto model = model_with_random_norms(models::make_resnet(c));
  expect_fusing_changes_nothing(*model, Shape{2, 3, 32, 32}, {"layer2", "layer1.1.bn3", "layer1.0.downsample"});
}

TEST(BatchNormReluInModels, VggWithBatchNormIsTheSameFusedOrNot) {
  auto model = model_with_random_norms(models::make_model("fashion_vgg"));
  expect_fusing_changes_nothing(*model, Shape{2, 3, 32, 32}, {"features.20", "features.9"});
}

TEST(Conv2dReluInModels, VggIsTheSameFusedOrNot) {
  // features: 0 conv, 1 ReLU, 2 pool, 3 conv, 4 ReLU, 5 conv, 6 ReLU, 7 pool, 8 conv, 9 ReLU
  auto model = model_with_random_norms(models::make_vgg("small_vgg", {8, 0, 16, 16, 0, 32}, false, 5, true));
  expect_fusing_changes_nothing(*model, Shape{2, 3, 32, 32}, {"features.9", "features.5", "features.1"});
}

}  // namespace
}  // namespace gcam
