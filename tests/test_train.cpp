// Training with gcam's own autodiff: the SGD update and the learning-rate schedule by hand, then the
// end-to-end proof that weight gradients, batch-norm training and the optimizer are right — a small
// ResNet memorises one batch, and learns cluttered Fashion-MNIST well above chance in a few hundred steps.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "gcam/error.h"
#include "gcam/train.h"

namespace gcam {
namespace {

void set_grad(Tensor& p, const std::vector<float>& g) { p.impl()->grad = Tensor::from_vector(p.shape(), g).impl_ptr(); }

TEST(Sgd, MomentumAndWeightDecayFollowPyTorchsFormulas) {
  Tensor w = Tensor::from_vector(Shape{1, 2}, {1.0f, -2.0f});  // a weight (2-D): decayed
  Tensor b = Tensor::from_vector(Shape{2}, {0.5f, 0.5f});      // a bias (1-D): not decayed
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  train::Sgd sgd({w, b}, train::SgdOptions{0.9f, 0.1f});
  // Step 1, lr 0.5: v = g + λp;  p −= lr·v.
  set_grad(w, {3.0f, 1.0f});
  set_grad(b, {2.0f, -4.0f});
  sgd.step(0.5f);
  // w: v = (3 + 0.1, 1 − 0.2) = (3.1, 0.8) → w = (1 − 1.55, −2 − 0.4) = (−0.55, −2.4)
  // b: v = (2, −4) → b = (0.5 − 1, 0.5 + 2) = (−0.5, 2.5)
  EXPECT_FLOAT_EQ(w.data()[0], -0.55f);
  EXPECT_FLOAT_EQ(w.data()[1], -2.4f);
  EXPECT_FLOAT_EQ(b.data()[0], -0.5f);
  EXPECT_FLOAT_EQ(b.data()[1], 2.5f);
  // Step 2, lr 0.1, gradient 0: v = 0.9·v + λp.
  //   w: v = (2.79 − 0.055, 0.72 − 0.24) = (2.735, 0.48) → w = (−0.55 − 0.2735, −2.4 − 0.048)
  //   b: v = (1.8, −3.6) → b = (−0.5 − 0.18, 2.5 + 0.36)
  set_grad(w, {0.0f, 0.0f});
  set_grad(b, {0.0f, 0.0f});
  sgd.step(0.1f);
  EXPECT_FLOAT_EQ(w.data()[0], -0.8235f);
  EXPECT_FLOAT_EQ(w.data()[1], -2.448f);
  EXPECT_FLOAT_EQ(b.data()[0], -0.68f);
  EXPECT_FLOAT_EQ(b.data()[1], 2.86f);
  // zero_grad drops the gradients; a step without one leaves the parameter alone.
  sgd.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  sgd.step(1.0f);
  EXPECT_FLOAT_EQ(b.data()[1], 2.86f);
  EXPECT_THROW(sgd.step(std::nanf("")), InputError);
  Tensor frozen = Tensor::zeros(Shape{2});
  EXPECT_THROW(train::Sgd({frozen}, {}), InputError);  // must require grad
}

TEST(Schedule, WarmsUpLinearlyThenFallsAlongAHalfCosine) {
  EXPECT_FLOAT_EQ(train::cosine_lr(0.1f, 0, 1000, 100), 0.001f);
  EXPECT_FLOAT_EQ(train::cosine_lr(0.1f, 99, 1000, 100), 0.1f);
  EXPECT_FLOAT_EQ(train::cosine_lr(0.1f, 100, 1000, 100), 0.1f);
  EXPECT_NEAR(train::cosine_lr(0.1f, 550, 1000, 100), 0.05f, 1e-6);  // halfway through the decay
  EXPECT_NEAR(train::cosine_lr(0.1f, 999, 1000, 100), 0.0f, 1e-5);
  EXPECT_EQ(train::cosine_lr(0.1f, 1000, 1000, 100), 0.0f);
}

// A small ResNet for 32×32 canvases: 8, 16, 32 channels; 16×16 → 8×8 → 4×4.
std::unique_ptr<models::Model> small_resnet() {
  models::ResNetConfig c;
  c.name = "small";
  c.blocks = {1, 1, 1, 0};
  c.widths = {8, 16, 32, 0};
  c.stem_width = 8;
  c.stem_kernel = 3;
  c.stem_stride = 2;
  c.stem_max_pool = false;
  c.num_classes = 10;
  auto model = models::make_resnet(c);
  model->initialize(7);
  return model;
}

data::CanvasOptions small_canvas() {
  data::CanvasOptions o;
  o.size = 32;
  o.min_scale = 0.8f;
  o.max_scale = 1.1f;
  o.distractors = 1;
  o.fragment = 8;
  return o;
}

const data::ItemSet& fashion_train() {
  static const data::ItemSet set = data::load_fashion_mnist(data::kFashionMnistDirectory, data::Split::Train);
  return set;
}

TEST(Training, MemorisesOneBatch) {
  auto model = small_resnet();
  train::Sgd sgd(train::trainable_parameters(*model), {0.9f, 0.0f});
  std::vector<int64_t> order(32);
  std::iota(order.begin(), order.end(), 0);
  const train::Batch batch = train::make_batch(fashion_train(), order, 0, 32, 1, 1, small_canvas(), train::canvas_preprocess(32));
  const float first = train::train_step(*model, sgd, batch.input, batch.labels, 0.05f).loss;
  train::StepResult last;
  for (int step = 0; step < 60; ++step) last = train::train_step(*model, sgd, batch.input, batch.labels, 0.05f);
  EXPECT_GT(first, 2.0f);  // about ln 10 at the start
  EXPECT_LT(last.loss, 0.25f * first) << "first " << first << ", after 60 steps " << last.loss;
  EXPECT_GE(last.correct, 28) << "of 32";
}

TEST(Training, LearnsHeldOutCanvasesWellAboveChance) {
  const data::ItemSet& train_set = fashion_train();
  const data::ItemSet test_set = data::load_fashion_mnist(data::kFashionMnistDirectory, data::Split::Test);
  auto model = small_resnet();
  train::Sgd sgd(train::trainable_parameters(*model), {0.9f, 5e-4f});
  const int64_t steps = 500, batch = 32, warmup = 40;
  std::vector<int64_t> order(static_cast<size_t>(steps * batch));
  std::iota(order.begin(), order.end(), 0);
  const image::Preprocess pre = train::canvas_preprocess(32);
  const double before = train::evaluate_accuracy(*model, test_set, 1000, data::kHeldOutSeed, small_canvas(), pre);
  std::vector<float> losses;
  for (int64_t s = 0; s < steps; ++s) {
    const train::Batch b = train::make_batch(train_set, order, s * batch, batch, 1, 1, small_canvas(), pre);
    losses.push_back(train::train_step(*model, sgd, b.input, b.labels, train::cosine_lr(0.05f, s, steps, warmup)).loss);
  }
  const double first = std::accumulate(losses.begin(), losses.begin() + 40, 0.0) / 40;
  const double last = std::accumulate(losses.end() - 40, losses.end(), 0.0) / 40;
  const double after = train::evaluate_accuracy(*model, test_set, 1000, data::kHeldOutSeed, small_canvas(), pre);
  std::printf("loss %.3f → %.3f; held-out accuracy %.1f%% → %.1f%%\n", first, last, 100 * before, 100 * after);
  EXPECT_LT(last, 0.7 * first);
  EXPECT_GT(after, 0.40) << "chance is 0.10";
  EXPECT_GT(after, before + 0.25);
}

}  // namespace
}  // namespace gcam
