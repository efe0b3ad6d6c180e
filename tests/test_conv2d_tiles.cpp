// The fast convolution cuts its columns into tiles of output rows (src/ops/conv2d.cpp). The oracle
// shapes are small; these shapes make tiles split an image part-way and join bands of several images,
// and the fast path must still equal the reference loops.
#include <gtest/gtest.h>

#include "cpu/direct_conv.h"  // internal: the tests reach the fast paths directly
#include "cpu/winograd.h"
#include "derived_layouts.h"
#include "gcam/ops/conv2d.h"
#include "support/compare.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

struct TileCase {
  const char* what;
  Shape x, w;
  ops::Conv2dOptions options;
};

TEST(Conv2dTiles, FastPathEqualsReferenceLoops) {
  const std::vector<TileCase> cases = {
      // 512·9 = 4608-long patches: 256-column tiles, the 60 output rows dealt out as 8 tiles of 7–8
      // rows, so images are cut part-way (with two threads; the 7×7 case below joins images in a tile).
      {"split image", Shape{2, 512, 30, 30}, Shape{4, 512, 3, 3}, {1, 1}},
      {"split image, strided, grouped", Shape{2, 512, 33, 31}, Shape{6, 256, 3, 3}, {2, 1, 1, 2}},
      {"many 7x7 images in one tile", Shape{9, 16, 7, 7}, Shape{8, 16, 3, 3}, {1, 1}},
      {"pointwise, bands of several images", Shape{5, 8, 7, 7}, Shape{6, 8, 1, 1}, {}},
      {"pointwise, long patches split an image", Shape{2, 4200, 20, 30}, Shape{3, 4200, 1, 1}, {}},
      // 1×1 kernels fold onto disjoint input rows, so the input gradient runs its tiles in parallel:
      // four 256-column tiles, each of bands from six images (one part-way), at stride 1 and 2.
      {"pointwise, parallel tiles of several images", Shape{20, 600, 7, 7}, Shape{4, 600, 1, 1}, {}},
      {"1x1 stride 2, parallel tiles of several images", Shape{20, 600, 13, 13}, Shape{4, 600, 1, 1}, {2, 0}},
      // 3×3 on two tiles of four whole 8×8 images each (with two threads): no image is split, so the
      // input gradient also runs its tiles in parallel; the 7×7 case above splits one and must not.
      {"3x3, tiles of whole images", Shape{8, 64, 8, 8}, Shape{16, 64, 3, 3}, {1, 1}},
      // 512 or more input channels and a few hundred columns in the whole batch (the late layers of a
      // network at small batches): the 3×3 ones go through Winograd with its kept filters, the dilated
      // 5×5 one through a single tile.
      {"wide channels, one 14x14 image", Shape{1, 520, 14, 14}, Shape{24, 520, 3, 3}, {1, 1}},
      {"wide channels, 7x7 images", Shape{8, 512, 7, 7}, Shape{16, 512, 3, 3}, {1, 1}},
      {"wide channels, unpadded", Shape{2, 512, 16, 16}, Shape{8, 512, 3, 3}, {1, 0}},
      {"wide channels, 5x5 dilated", Shape{1, 512, 20, 20}, Shape{8, 512, 5, 5}, {1, 4, 2}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const TileCase& c = cases[i];
    SCOPED_TRACE(c.what);
    const Tensor x = test::random_normal(c.x, 10 + i), w = test::random_normal(c.w, 20 + i, 0.1f);
    const Shape ys = ops::conv2d_output_shape(c.x, c.w, c.options);
    const Tensor dy = test::random_normal(ys, 30 + i);
    EXPECT_TRUE(test::near_relative(ops::conv2d_forward(x, w, Tensor(), c.options),
                                    ops::reference::conv2d_forward(x, w, Tensor(), c.options), 1e-5));
    EXPECT_TRUE(test::near_relative(ops::conv2d_backward_data(dy, w, c.x, c.options),
                                    ops::reference::conv2d_backward_data(dy, w, c.x, c.options), 1e-5));
    EXPECT_TRUE(test::near_relative(ops::conv2d_backward_weight(dy, x, c.w, c.options),
                                    ops::reference::conv2d_backward_weight(dy, x, c.w, c.options), 1e-5));
  }
}

}  // namespace
}  // namespace gcam

namespace gcam {
namespace {

// Winograd F(2×2, 3×3) (src/cpu/winograd.h) against the reference loops, forward, input gradient and
// weight gradient: every padding it accepts, odd output sizes (half tiles at the right and bottom
// edges), several images, several blocks.
TEST(Conv2dWinograd, EqualsReferenceLoops) {
  struct Case {
    Shape x, w;
    Hw padding;
  };
  const std::vector<Case> cases = {
      {Shape{3, 5, 17, 13}, Shape{4, 5, 3, 3}, Hw(1, 1)},    // odd outputs, batch 3
      {Shape{2, 6, 20, 21}, Shape{3, 6, 3, 3}, Hw(0, 0)},    // valid convolution
      {Shape{2, 4, 15, 16}, Shape{5, 4, 3, 3}, Hw(2, 2)},    // padding 2 (the transposed conv of pad 0)
      {Shape{2, 3, 18, 17}, Shape{2, 3, 3, 3}, Hw(0, 2)},    // asymmetric padding
      {Shape{1, 64, 60, 60}, Shape{8, 64, 3, 3}, Hw(1, 1)},  // many blocks of tiles
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE("winograd case " + std::to_string(i));
    ops::Conv2dOptions options;
    options.padding = c.padding;
    ASSERT_TRUE(cpu::winograd_applies(c.x, c.w, options));
    const Tensor x = test::random_normal(c.x, 40 + i), w = test::random_normal(c.w, 50 + i, 0.3f);
    EXPECT_TRUE(test::near_relative(cpu::winograd_conv3x3(x, w, options),
                                    ops::reference::conv2d_forward(x, w, Tensor(), options), 1e-5));
  }
  // The input-gradient form: convolution by the flipped, transposed kernel, built without flipping.
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE("winograd input-gradient case " + std::to_string(i));
    ops::Conv2dOptions forward;
    forward.padding = Hw(2 - c.padding.h, 2 - c.padding.w);  // so that the gradient's padding is c.padding
    const Shape w_shape{c.x[1], c.w[0], 3, 3};                 // (K, C): the gradient flows K → C
    const Shape x_shape{c.x[0], c.w[0], c.x[2] + 2 * c.padding.h - 2, c.x[3] + 2 * c.padding.w - 2};
    const Tensor w = test::random_normal(w_shape, 60 + i, 0.3f);
    const Tensor dy = test::random_normal(c.x, 70 + i);
    ops::Conv2dOptions transposed;
    transposed.padding = c.padding;
    EXPECT_TRUE(test::near_relative(
        cpu::winograd_conv3x3(dy, w, transposed, cpu::FilterOrientation::FlippedTransposed),
        ops::reference::conv2d_backward_data(dy, w, x_shape, forward), 1e-5));
  }
  // The weight gradient (the adjoint of the forward's transforms), over the same cases, and over a
  // batch of training shapes whose blocks are shared out to the threads, each summed apart.
  std::vector<Case> weight_cases = cases;
  weight_cases.push_back({Shape{16, 16, 32, 32}, Shape{16, 16, 3, 3}, Hw(1, 1)});
  for (size_t i = 0; i < weight_cases.size(); ++i) {
    const Case& c = weight_cases[i];
    SCOPED_TRACE("winograd weight-gradient case " + std::to_string(i));
    ops::Conv2dOptions options;
    options.padding = c.padding;
    const Tensor x = test::random_normal(c.x, 80 + i);
    const Shape y_shape = ops::conv2d_output_shape(c.x, c.w, options);
    const Tensor dy = test::random_normal(y_shape, 90 + i);
    EXPECT_TRUE(test::near_relative(cpu::winograd_weight_gradient(dy, x, c.w, options),
                                    ops::reference::conv2d_backward_weight(dy, x, c.w, options), 1e-5));
  }
  ops::Conv2dOptions strided;
  strided.stride = 2;
  EXPECT_FALSE(cpu::winograd_applies(Shape{2, 8, 40, 40}, Shape{4, 8, 3, 3}, strided));
  EXPECT_FALSE(cpu::winograd_applies(Shape{1, 8, 6, 6}, Shape{4, 8, 3, 3}, {}));  // too few tiles
}

// The transformed filters U are made once per weight tensor and kept with its storage
// (src/derived_layouts.h): later calls, in either orientation, reuse them until the weights are
// written, and then the results follow the new weights.
TEST(Conv2dWinograd, KeepsTransformedFiltersUntilTheWeightsAreWritten) {
  ops::Conv2dOptions same;
  same.padding = Hw(1, 1);
  const Shape xs{2, 6, 16, 16}, ws{5, 6, 3, 3};
  ASSERT_TRUE(cpu::winograd_applies(xs, ws, same));
  const Tensor x = test::random_normal(xs, 80);
  const Tensor dy = test::random_normal(Shape{2, 5, 16, 16}, 81);
  Tensor w = test::random_normal(ws, 82, 0.3f);
  auto forward_matches = [&](const Tensor& weights) {
    return test::near_relative(cpu::winograd_conv3x3(x, weights, same),
                               ops::reference::conv2d_forward(x, weights, Tensor(), same), 1e-5);
  };
  auto gradient_matches = [&](const Tensor& weights) {
    return test::near_relative(
        cpu::winograd_conv3x3(dy, weights, same, cpu::FilterOrientation::FlippedTransposed),
        ops::reference::conv2d_backward_data(dy, weights, xs, same), 1e-5);
  };

  const int64_t before = derived_layouts_made();
  EXPECT_TRUE(forward_matches(w));
  EXPECT_EQ(derived_layouts_made(), before + 1);
  EXPECT_TRUE(forward_matches(w));
  EXPECT_TRUE(gradient_matches(w));  // the input gradient reads the same U, transposed
  EXPECT_EQ(derived_layouts_made(), before + 1);

  w.data()[7] += 1.0f;  // a write through the tensor itself
  EXPECT_TRUE(forward_matches(w));
  EXPECT_EQ(derived_layouts_made(), before + 2);

  Tensor alias = w.view(Shape{ws.numel()});  // a write through another view of the same storage
  alias.data()[100] -= 2.0f;
  EXPECT_TRUE(gradient_matches(w));
  EXPECT_EQ(derived_layouts_made(), before + 3);

  // Two weight tensors in one storage at different offsets keep one U each.
  Tensor both = test::random_normal(Shape{2, ws.numel()}, 83, 0.3f);
  const Tensor first = both.select(0).view(ws), second = both.select(1).view(ws);
  EXPECT_TRUE(forward_matches(first));
  EXPECT_TRUE(forward_matches(second));
  EXPECT_TRUE(forward_matches(first));
  EXPECT_EQ(derived_layouts_made(), before + 5);
}

}  // namespace
}  // namespace gcam

namespace gcam {
namespace {

// The small-channel direct convolution (src/cpu/direct_conv.h) against the reference loops: strides
// 1–4 (1–4 column phases), paddings up to and beyond half the kernel (bands that start or end in
// padding, and rows whose whole kernel lies in it), output widths that are not a multiple of the
// 16-column block, channel counts that leave a partial 6-channel block, several images and bands.
TEST(Conv2dDirect, EqualsReferenceLoops) {
  struct Case {
    Shape x, w;
    ops::Conv2dOptions options;
  };
  const std::vector<Case> cases = {
      {Shape{2, 3, 45, 41}, Shape{64, 3, 7, 7}, {2, 3}},      // the ResNet stem, odd input
      {Shape{3, 3, 32, 32}, Shape{16, 3, 5, 5}, {2, 2}},      // the fashion_resnet stem
      {Shape{1, 3, 35, 37}, Shape{13, 3, 3, 3}, {1, 1}},      // VGG's first layer, odd sizes
      {Shape{2, 1, 19, 23}, Shape{5, 1, 3, 5}, {{3, 4}, {2, 0}}},  // rectangular kernel, strides 3×4
      {Shape{1, 4, 12, 50}, Shape{7, 4, 4, 4}, {1, 0}},       // even kernel, no padding
      {Shape{2, 2, 3, 3}, Shape{6, 2, 7, 7}, {2, 5}},         // padding wider than the kernel's half
      {Shape{1, 2, 17, 18}, Shape{3, 2, 3, 3}, {4, 0}},       // stride 4 > kernel: phases no tap reaches
      {Shape{2, 3, 70, 67}, Shape{9, 3, 3, 3}, {2, 1}},       // phases of several 32-column blocks
  };
  // The input gradient goes by the stride's phases (direct_conv_input_gradient.cpp) for up to 3
  // channels: the cases above give phases of 1 to 4 taps per axis, and none at all, phase widths that
  // leave a partial block, zero borders on every side, and 1, 2 and 3 channels of the block's 3.
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE("direct case " + std::to_string(i));
    ASSERT_TRUE(cpu::direct_conv_applies(c.x, c.w, c.options));
    const Tensor x = test::random_normal(c.x, 80 + i), w = test::random_normal(c.w, 90 + i, 0.3f);
    EXPECT_TRUE(test::near_relative(cpu::direct_conv(x, w, c.options),
                                    ops::reference::conv2d_forward(x, w, Tensor(), c.options), 1e-5));
    if (c.x[1] > 3) {
      EXPECT_FALSE(cpu::direct_conv_input_gradient_applies(c.x, c.w, c.options));
      continue;
    }
    ASSERT_TRUE(cpu::direct_conv_input_gradient_applies(c.x, c.w, c.options));
    const Tensor dy = test::random_normal(ops::conv2d_output_shape(c.x, c.w, c.options), 100 + i);
    EXPECT_TRUE(test::near_relative(cpu::direct_conv_input_gradient(dy, w, c.x, c.options),
                                    ops::reference::conv2d_backward_data(dy, w, c.x, c.options), 1e-5));
  }
  ops::Conv2dOptions grouped;
  grouped.groups = 2;
  EXPECT_FALSE(cpu::direct_conv_applies(Shape{1, 4, 20, 20}, Shape{8, 2, 3, 3}, grouped));
  EXPECT_FALSE(cpu::direct_conv_applies(Shape{1, 16, 20, 20}, Shape{8, 16, 3, 3}, {}));  // many channels
  EXPECT_FALSE(cpu::direct_conv_applies(Shape{1, 3, 20, 20}, Shape{8, 3, 1, 1}, {}));    // 1×1: a GEMM
}

}  // namespace
}  // namespace gcam
