// The fast convolution cuts its columns into tiles of output rows (src/ops/conv2d.cpp). The oracle
// shapes are small; these shapes make tiles split an image part-way and join bands of several images,
// and the fast path must still equal the reference loops.
#include <gtest/gtest.h>

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
      // 512·9 = 4608-long patches: 512-column tiles, 17 rows of 30 each, split across the two images.
      {"split image", Shape{2, 512, 30, 30}, Shape{4, 512, 3, 3}, {1, 1}},
      {"split image, strided, grouped", Shape{2, 512, 33, 31}, Shape{6, 256, 3, 3}, {2, 1, 1, 2}},
      {"many 7x7 images in one tile", Shape{9, 16, 7, 7}, Shape{8, 16, 3, 3}, {1, 1}},
      {"pointwise, bands of several images", Shape{5, 8, 7, 7}, Shape{6, 8, 1, 1}, {}},
      {"pointwise, long patches split an image", Shape{2, 4200, 20, 30}, Shape{3, 4200, 1, 1}, {}},
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
