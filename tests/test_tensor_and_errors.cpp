// Tensors (sharing, views, copies), and bad input to every op: a clear InputError naming the op and the
// shapes, never a crash or an out-of-bounds access. Also max pooling's NaNs, on and off the tape.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "gcam/error.h"
#include "gcam/ops.h"

namespace gcam {
namespace {

TEST(Tensor, CopiesShareViewsAliasClonesDoNot) {
  Tensor a = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor same = a;
  Tensor view = a.view(Shape{3, 2});
  Tensor copy = a.clone();
  a.data()[0] = 42.0f;
  EXPECT_EQ(same.data()[0], 42.0f);
  EXPECT_EQ(view.data()[0], 42.0f);
  EXPECT_EQ(copy.data()[0], 1.0f);
  EXPECT_EQ(same.id(), a.id());
  EXPECT_NE(view.id(), a.id());
  EXPECT_EQ(view.shape(), (Shape{3, 2}));
  EXPECT_EQ(a.to(Device::CPU).to_vector(), a.to_vector());
}

// select(n) is entry n of the first dimension as a view: the right values and shape, the same storage.
TEST(Tensor, SelectIsAViewOfOneEntry) {
  Tensor batch = Tensor::from_vector(Shape{3, 2, 2}, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23});
  Tensor second = batch.select(1);
  EXPECT_EQ(second.shape(), (Shape{2, 2}));
  EXPECT_EQ(second.to_vector(), (std::vector<float>{10, 11, 12, 13}));
  batch.data()[5] = 99.0f;  // entry 1, element 1
  EXPECT_EQ(second.data()[1], 99.0f);
  EXPECT_EQ(second.select(1).to_vector(), (std::vector<float>{12, 13}));  // a view of a view
  EXPECT_EQ(batch.select(2).select(0).to_vector(), (std::vector<float>{20, 21}));
  EXPECT_THROW(batch.select(3), InputError);
  EXPECT_THROW(batch.select(-1), InputError);
}

TEST(Tensor, ShapeRules) {
  EXPECT_EQ((Shape{2, 3, 4, 5}).numel(), 120);
  EXPECT_EQ(Shape().numel(), 1);
  EXPECT_EQ((Shape{8, 64, 56, 56}).str(), "(8, 64, 56, 56)");
  EXPECT_EQ((Shape{2, 3})[-1], 3);
  EXPECT_THROW((Shape{1, 2, 3, 4, 5}), InputError);
  EXPECT_THROW((Shape{2, -1}), InputError);
  EXPECT_THROW((Shape{2, 3})[2], InputError);
  EXPECT_THROW(Tensor::from_vector(Shape{2, 2}, {1, 2, 3}), InputError);
  EXPECT_THROW(Tensor::zeros(Shape{2, 3}).view(Shape{4, 2}), InputError);
  EXPECT_THROW(Tensor::zeros(Shape{2}).item(), InputError);
  EXPECT_THROW(Tensor().shape(), InputError);
}

// Runs `call`, expects an InputError whose message contains every fragment.
template <typename Call>
void expect_input_error(Call call, const std::vector<std::string>& fragments) {
  try {
    call();
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << "'" << f << "' not in: " << e.what();
  }
}

// A NaN wins every window that holds it, as in PyTorch, whether max_pool2d records where its maxima
// are (on a tape) or takes the maxima alone (off it): ResNet's 3×3/2 pool with padding 1 over a 6×9
// plane, a NaN at (2, 3), which the windows of outputs (1, 1) and (1, 2) hold.
TEST(MaxPool2d, ANanWinsItsWindowsOnAndOffTheTape) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal;
  Tensor x = Tensor::empty(Shape{1, 1, 6, 9});
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = normal(rng);
  x.data()[2 * 9 + 3] = std::numeric_limits<float>::quiet_NaN();
  const ops::MaxPool2dOptions resnet{Hw(3), Hw(2), Hw(1), Hw(1), false};
  Tape tape;
  const Tensor on = ops::max_pool2d(tape.watch(x), resnet), off = ops::max_pool2d(x, resnet);
  ASSERT_EQ(off.shape(), Shape({1, 1, 3, 5}));
  for (int64_t p = 0; p < 15; ++p) {
    const bool holds_nan = p == 1 * 5 + 1 || p == 1 * 5 + 2;
    EXPECT_EQ(std::isnan(off.data()[p]), holds_nan) << p;
    EXPECT_EQ(std::isnan(on.data()[p]), holds_nan) << p;
    if (!holds_nan) EXPECT_EQ(off.data()[p], on.data()[p]) << p;
  }
}

TEST(BadInput, Conv2d) {
  Tensor x = Tensor::zeros(Shape{1, 3, 8, 8});
  expect_input_error([&] { ops::conv2d(x, Tensor::zeros(Shape{4, 2, 3, 3}), Tensor()); },
                     {"conv2d", "(1, 3, 8, 8)", "(4, 2, 3, 3)"});
  expect_input_error([&] { ops::conv2d(x, Tensor::zeros(Shape{4, 3, 9, 9}), Tensor()); }, {"conv2d", "fit"});
  expect_input_error([&] { ops::conv2d(x, Tensor::zeros(Shape{4, 3, 3, 3}), Tensor::zeros(Shape{5})); },
                     {"conv2d", "bias", "(5)"});
  expect_input_error([&] { ops::conv2d(x, Tensor::zeros(Shape{4, 1, 3, 3}), Tensor(), {1, 0, 1, 2}); },
                     {"conv2d", "groups"});
  expect_input_error([&] { ops::conv2d(x, Tensor::zeros(Shape{4, 3, 3, 3}), Tensor(), {0, 0, 1, 1}); },
                     {"conv2d", "stride"});
  expect_input_error([&] { ops::conv2d(x, Tensor::zeros(Shape{4, 3, 3, 3}), Tensor(), {1, -1, 1, 1}); },
                     {"conv2d", "padding"});
  expect_input_error([&] { ops::conv2d(x, Tensor::zeros(Shape{4, 3, 3, 3}), Tensor(), {1, 1, 0, 1}); },
                     {"conv2d", "dilation"});
  expect_input_error([&] { ops::conv2d(Tensor::zeros(Shape{3, 8, 8}), Tensor::zeros(Shape{4, 3, 3, 3}), Tensor()); },
                     {"conv2d", "(3, 8, 8)"});
  expect_input_error([&] { ops::conv2d_backward_data(Tensor::zeros(Shape{1, 4, 5, 5}), Tensor::zeros(Shape{4, 3, 3, 3}),
                                                     Shape{1, 3, 8, 8}, {}); },
                     {"conv2d backward", "(1, 4, 6, 6)", "(1, 4, 5, 5)"});
}

TEST(BadInput, PoolingNormalisationLinearLosses) {
  Tensor x = Tensor::zeros(Shape{1, 2, 4, 4});
  expect_input_error([&] { ops::max_pool2d(x, {Hw(5), Hw(1), Hw(0), Hw(1), false}); }, {"max_pool2d"});
  expect_input_error([&] { ops::max_pool2d(x, {Hw(2), Hw(2), Hw(2), Hw(1), false}); }, {"max_pool2d", "half the kernel"});
  expect_input_error([&] { ops::avg_pool2d(x, {Hw(0), Hw(1), Hw(0), false, true}); }, {"avg_pool2d", "positive"});
  expect_input_error([&] { ops::adaptive_avg_pool2d(x, Hw(0, 7)); }, {"adaptive_avg_pool2d"});
  Tensor c2 = Tensor::zeros(Shape{2}), c3 = Tensor::zeros(Shape{3});
  expect_input_error([&] { ops::batch_norm(x, c3, c2, c2, c2); }, {"batch_norm", "weight", "(2)", "(3)"});
  Tensor one = Tensor::zeros(Shape{1, 2, 1, 1});
  ops::BatchNormOptions training;
  training.training = true;
  expect_input_error([&] { ops::batch_norm(one, c2, c2, c2, c2, training); }, {"batch_norm", "more than one"});
  expect_input_error([&] { ops::linear(Tensor::zeros(Shape{2, 5}), Tensor::zeros(Shape{3, 4}), Tensor()); },
                     {"linear", "(2, 5)", "(3, 4)"});
  expect_input_error([&] { ops::add(Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{3, 2})); }, {"add", "(2, 3)", "(3, 2)"});
  expect_input_error([&] { ops::cross_entropy(Tensor::zeros(Shape{2, 3}), {0, 3}); }, {"cross_entropy", "label 3"});
  expect_input_error([&] { ops::cross_entropy(Tensor::zeros(Shape{2, 3}), {0}); }, {"cross_entropy", "1 labels"});
  expect_input_error([&] { ops::softmax(Tensor::zeros(Shape{2, 3, 4, 4})); }, {"softmax", "(2, 3, 4, 4)"});
  std::mt19937_64 rng(1);
  expect_input_error([&] { ops::dropout(x, 1.0f, true, &rng); }, {"dropout", "probability"});
  expect_input_error([&] { ops::reshape(x, Shape{3, 3}); }, {"reshape", "(1, 2, 4, 4)", "(3, 3)"});
}

TEST(BadInput, CudaTensorsGetAClearErrorWithoutABackend) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present: covered by the CUDA tests";
  expect_input_error([] { Tensor::zeros(Shape{2}, Device::CUDA); }, {"cuda"});
}

}  // namespace
}  // namespace gcam
