// The tape: targeted queries run only the nodes they need and no weight gradient; the training pass
// fills parameter gradients; fan-out sums; named points can be captured.
#include <gtest/gtest.h>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "gcam/ops.h"
#include "support/compare.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

using test::random_normal;

// A small classifier: conv → relu → conv → relu [tap "stage"] → avgpool → flatten → linear.
struct SmallNet {
  Tensor w1 = random_normal(Shape{4, 3, 3, 3}, 1, 0.4f), w2 = random_normal(Shape{6, 4, 3, 3}, 2, 0.3f);
  Tensor wf = random_normal(Shape{5, 6}, 3), bf = random_normal(Shape{5}, 4);

  Tensor forward(Tape& tape, const Tensor& x) {
    Tensor a = ops::relu(ops::conv2d(x, w1, Tensor(), {1, 1}));
    Tensor stage = ops::relu(ops::conv2d(a, w2, Tensor(), {2, 1}));
    tape.tap("stage", stage);
    return ops::linear(ops::flatten(ops::adaptive_avg_pool2d(stage, 1)), wf, bf);
  }
};

Tensor one_hot(int64_t rows, int64_t classes, int64_t hot) {
  Tensor seed = Tensor::zeros(Shape{rows, classes});
  for (int64_t n = 0; n < rows; ++n) seed.data()[n * classes + hot] = 1.0f;
  return seed;
}

TEST(Autograd, TargetedQueryRunsOnlyTheNodesBetweenTargetAndOutput) {
  SmallNet net;
  for (Tensor* w : {&net.w1, &net.w2, &net.wf, &net.bf}) w->set_requires_grad(true);
  Tape tape;
  Tensor logits = net.forward(tape, tape.watch(random_normal(Shape{2, 3, 8, 8}, 5)));
  EXPECT_EQ(tape.size(), 7u);  // conv relu conv relu avgpool reshape linear
  Tensor stage = tape.tapped("stage");
  Tensor grad = tape.grad(logits, one_hot(2, 5, 3), {stage})[0];

  const BackwardStats& s = tape.stats();
  EXPECT_EQ(s.nodes_run, 3);
  EXPECT_EQ(s.ops_run, (std::vector<std::string>{"linear", "reshape", "adaptive_avg_pool2d"}));
  EXPECT_EQ(s.input_grads_computed, 3);  // one data input per node: no weight, no bias gradient
  EXPECT_EQ(s.parameter_grads_written, 0);
  for (Tensor* w : {&net.w1, &net.w2, &net.wf, &net.bf}) EXPECT_FALSE(w->grad().defined());
  ASSERT_EQ(grad.shape(), stage.shape());

  // The gradient itself: d logit_3 / d stage[n,k,i,j] = wf[3,k] / (h·w) for every position.
  const int64_t plane = stage.size(2) * stage.size(3);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 6; ++k)
      for (int64_t p = 0; p < plane; ++p)
        ASSERT_FLOAT_EQ(grad.data()[(n * 6 + k) * plane + p], net.wf.data()[3 * 6 + k] / plane);
}

TEST(Autograd, GradientToTheInputStillComputesNoWeightGradient) {
  SmallNet net;
  Tape tape;
  Tensor x = tape.watch(random_normal(Shape{1, 3, 8, 8}, 6));
  Tensor logits = net.forward(tape, x);
  BackwardOptions guided;
  guided.relu_rule = ReluRule::Guided;
  Tensor dx = tape.grad(logits, one_hot(1, 5, 0), {x}, guided)[0];
  EXPECT_EQ(dx.shape(), x.shape());
  EXPECT_EQ(tape.stats().nodes_run, 7);
  EXPECT_EQ(tape.stats().input_grads_computed, 7);  // never the second input (a weight) of conv or linear
  for (float v : dx.to_vector()) ASSERT_TRUE(std::isfinite(v));
}

TEST(Autograd, UnrelatedBranchesAreNotRun) {
  Tape tape;
  Tensor x = tape.watch(random_normal(Shape{1, 2, 4, 4}, 7));
  Tensor side = ops::conv2d(x, random_normal(Shape{3, 2, 3, 3}, 8), Tensor(), {1, 1});  // never used
  Tensor y = ops::relu(x);
  (void)side;
  Tensor dx = tape.grad(y, Tensor::full(y.shape(), 1.0f), {x})[0];
  EXPECT_EQ(tape.stats().nodes_on_tape, 2);
  EXPECT_EQ(tape.stats().ops_run, (std::vector<std::string>{"relu"}));
}

TEST(Autograd, FanOutGradientsAreSummed) {
  Tape tape;
  Tensor x = tape.watch(Tensor::from_vector(Shape{4}, {-2.0f, -0.5f, 0.5f, 2.0f}));
  Tensor y = ops::add(ops::add(ops::relu(x), x), x);  // y = relu(x) + 2x
  Tensor dx = tape.grad(y, Tensor::full(Shape{4}, 1.0f), {x})[0];
  EXPECT_TRUE(test::equal_exactly(dx, {2.0f, 2.0f, 3.0f, 3.0f}));
}

TEST(Autograd, GradientOfAnIntermediateAndTheInputTogether) {
  Tape tape;
  Tensor x = tape.watch(Tensor::from_vector(Shape{3}, {1.0f, -1.0f, 2.0f}));
  Tensor r = ops::relu(x);
  Tensor y = ops::add(r, r);  // y = 2·relu(x)
  auto grads = tape.grad(y, Tensor::from_vector(Shape{3}, {1.0f, 2.0f, 3.0f}), {r, x});
  EXPECT_TRUE(test::equal_exactly(grads[0], {2.0f, 4.0f, 6.0f}));
  EXPECT_TRUE(test::equal_exactly(grads[1], {2.0f, 0.0f, 6.0f}));
}

TEST(Autograd, TrainingPassFillsAndAccumulatesParameterGradients) {
  SmallNet net;
  for (Tensor* w : {&net.w1, &net.w2, &net.wf, &net.bf}) w->set_requires_grad(true);
  Tensor image = random_normal(Shape{2, 3, 8, 8}, 9);
  // Reference: the targeted query with the parameters as targets.
  Tape reference;
  Tensor logits = net.forward(reference, reference.watch(image));
  Tensor loss = ops::cross_entropy(logits, {1, 4});
  auto expected = reference.grad(loss, Tensor::full(Shape{1}, 1.0f), {net.w1, net.w2, net.wf, net.bf});

  for (int pass = 1; pass <= 2; ++pass) {
    Tape tape;
    Tensor l = ops::cross_entropy(net.forward(tape, tape.watch(image)), {1, 4});
    tape.backward(l);
    EXPECT_EQ(tape.stats().parameter_grads_written, 4);
    const std::vector<Tensor*> params = {&net.w1, &net.w2, &net.wf, &net.bf};
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor want = expected[i].clone();
      for (int64_t j = 0; j < want.numel(); ++j) want.data()[j] *= pass;  // += on every pass
      EXPECT_TRUE(test::near_relative(params[i]->grad(), want, 1e-6)) << "parameter " << i << ", pass " << pass;
    }
  }
  net.w1.zero_grad();
  EXPECT_FALSE(net.w1.grad().defined());
}

TEST(Autograd, ErrorsAreClear) {
  Tape tape;
  Tensor x = tape.watch(Tensor::full(Shape{2}, 1.0f));
  Tensor y = ops::relu(x);
  Tensor stranger = Tensor::full(Shape{2}, 1.0f);
  EXPECT_THROW(tape.grad(y, Tensor::full(Shape{2}, 1.0f), {stranger}), InputError);
  EXPECT_THROW(tape.grad(y, Tensor::full(Shape{3}, 1.0f), {x}), InputError);  // seed shape
  EXPECT_THROW(tape.tapped("layer9"), InputError);
  EXPECT_THROW(tape.backward(y), InputError);  // not a scalar
  try {
    tape.tapped("layer9");
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer9"), std::string::npos);
  }
}

TEST(Autograd, NothingIsRecordedWithoutATapeOrAfterItIsGone) {
  Tensor x = Tensor::full(Shape{2}, 1.0f);
  Tensor kept;
  {
    Tape tape;
    kept = tape.watch(x);
    ops::relu(kept);
    EXPECT_EQ(tape.size(), 1u);
  }
  // The tape is gone: ops on its tensors simply don't record (and don't crash).
  Tensor y = ops::relu(kept);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1.0f, 1.0f}));
  Tape other;
  ops::relu(x);
  EXPECT_EQ(other.size(), 0u);
}

TEST(Autograd, MixingTwoTapesIsAnError) {
  Tape a, b;
  Tensor x = a.watch(Tensor::full(Shape{2}, 1.0f)), y = b.watch(Tensor::full(Shape{2}, 1.0f));
  EXPECT_THROW(ops::add(x, y), InputError);
}

TEST(Autograd, DeepChainsDoNotRecurse) {
  // 20,000 nodes: a recursive walk would be at risk; the iterative one is not.
  Tape tape;
  Tensor x = tape.watch(Tensor::from_vector(Shape{2}, {1.0f, -1.0f}));
  Tensor h = x;
  for (int i = 0; i < 20000; ++i) h = ops::relu(h);
  Tensor dx = tape.grad(h, Tensor::full(Shape{2}, 1.0f), {x})[0];
  EXPECT_TRUE(test::equal_exactly(dx, {1.0f, 0.0f}));
  EXPECT_EQ(tape.stats().nodes_run, 20000);
}

}  // namespace
}  // namespace gcam

namespace gcam {
namespace {

// Explaining keeps no activation for weight gradients; asking for one anyway is a clear error.
TEST(Autograd, ParameterGradientsNeedRequiresGradBeforeTheForwardPass) {
  Tensor w = test::random_normal(Shape{2, 1, 3, 3}, 1);
  Tape tape;
  Tensor x = tape.watch(test::random_normal(Shape{1, 1, 5, 5}, 2));
  Tensor y = ops::conv2d(x, w, Tensor(), {1, 1});
  try {
    tape.grad(y, Tensor::full(y.shape(), 1.0f), {w});
    ADD_FAILURE() << "a weight gradient without requires_grad";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("set_requires_grad"), std::string::npos) << e.what();
  }
  EXPECT_EQ(tape.grad(y, Tensor::full(y.shape(), 1.0f), {x})[0].shape(), x.shape());  // the input is fine
}

}  // namespace
}  // namespace gcam

namespace gcam {
namespace {

// Explaining's memory plan: only the target's activation is kept, and no node before it is stored.
TEST(Autograd, RecordFromATapStoresOnlyWhatFollowsIt) {
  SmallNet net;
  Tape full, lean;
  lean.keep_taps_only({"stage"});
  lean.record_from("stage");
  const Tensor image = random_normal(Shape{2, 3, 8, 8}, 5);
  const Tensor logits_full = net.forward(full, full.watch(image));
  const Tensor logits_lean = net.forward(lean, lean.watch(image));
  EXPECT_EQ(full.size(), 7u);
  EXPECT_EQ(lean.size(), 3u);  // avgpool, reshape, linear
  const Tensor seed = one_hot(2, 5, 1);
  EXPECT_TRUE(test::near_relative(lean.grad(logits_lean, seed, {lean.tapped("stage")})[0],
                                  full.grad(logits_full, seed, {full.tapped("stage")})[0], 0.0, 1e-30));
  EXPECT_THROW(lean.grad(logits_lean, seed, {lean.watch(image)}), InputError);  // nothing recorded back there
}

}  // namespace
}  // namespace gcam
