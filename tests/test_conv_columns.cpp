// The GPU's convolution-as-matrix-product arithmetic (src/cuda/conv_columns.h), run on the host: im2col's
// columns times the filters must be the CPU convolution, and the filters' transpose times the output
// gradient, folded back, must be the CPU input gradient. The kernels in kernels/conv2d_gemm.cu run the
// same two functions per thread, so this checks their indexing in every build, with or without a GPU.
#include <gtest/gtest.h>

#include <vector>

#include "cuda/conv_columns.h"
#include "gcam/ops/conv2d.h"
#include "support/compare.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

using test::random_normal;

struct Case {
  Shape x, w;
  ops::Conv2dOptions options;
};

// Row-major C (m×n) = op(A) · B, op(A) = A or Aᵀ, summed in double: the reference product.
std::vector<float> product(bool transpose_a, int64_t m, int64_t n, int64_t k, const float* a, const float* b) {
  std::vector<float> c(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int64_t q = 0; q < k; ++q) s += double(transpose_a ? a[q * m + i] : a[i * k + q]) * b[q * n + j];
      c[static_cast<size_t>(i * n + j)] = static_cast<float>(s);
    }
  return c;
}

TEST(ConvColumns, ColumnsAndFoldGiveTheCpuConvolution) {
  const std::vector<Case> cases = {
      {Shape{2, 3, 6, 7}, Shape{4, 3, 3, 3}, {1, 1, 1, 1}},                // padded
      {Shape{1, 2, 9, 8}, Shape{3, 2, 3, 3}, {2, 1, 1, 1}},                // strided
      {Shape{1, 2, 9, 9}, Shape{3, 2, 3, 3}, {1, 2, 2, 1}},                // dilated
      {Shape{2, 6, 7, 7}, Shape{5, 6, 1, 1}, {2, 0, 1, 1}},                // 1×1 strided
      {Shape{1, 3, 7, 9}, Shape{2, 3, 3, 5}, {Hw(2, 1), Hw(1, 2), 1, 1}},  // asymmetric everything
      {Shape{1, 2, 8, 11}, Shape{3, 2, 2, 4}, {Hw(1, 3), Hw(0, 2), Hw(2, 1), 1}},  // rectangular, dilated
      {Shape{2, 3, 23, 21}, Shape{8, 3, 7, 7}, {2, 3, 1, 1}},              // the ResNet stem, smaller
  };
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    SCOPED_TRACE("case " + std::to_string(ci) + ": x " + c.x.str() + ", w " + c.w.str());
    const Tensor x = random_normal(c.x, 1 + ci), w = random_normal(c.w, 50 + ci);
    const Shape ys = ops::conv2d_output_shape(c.x, c.w, c.options);
    const Tensor dy = random_normal(ys, 100 + ci);
    const cuda::ColumnGeometry g = cuda::column_geometry(c.x, c.w, c.options);
    const int64_t N = g.N, R = g.rows(), P = g.columns();

    // forward: y_n (K×P) = W (K×R) · cols_n (R×P)
    std::vector<float> cols(static_cast<size_t>(N * R * P));
    for (int64_t e = 0; e < N * R * P; ++e) cols[static_cast<size_t>(e)] = cuda::column_value(x.data(), g, e);
    Tensor y = Tensor::empty(ys);
    for (int64_t n = 0; n < N; ++n) {
      const std::vector<float> yn = product(false, g.K, P, R, w.data(), cols.data() + n * R * P);
      std::copy(yn.begin(), yn.end(), y.data() + n * g.K * P);
    }
    EXPECT_TRUE(test::near_in_norm(y, ops::conv2d(x, w, Tensor(), c.options), 1e-5)) << "forward";

    // input gradient: cols_n (R×P) = Wᵀ (R×K) · dy_n (K×P), folded
    for (int64_t n = 0; n < N; ++n) {
      const std::vector<float> cn = product(true, R, P, g.K, w.data(), dy.data() + n * g.K * P);
      std::copy(cn.begin(), cn.end(), cols.begin() + n * R * P);
    }
    Tensor dx = Tensor::empty(c.x);
    for (int64_t e = 0; e < dx.numel(); ++e) dx.data()[e] = cuda::folded_value(cols.data(), g, e);
    EXPECT_TRUE(test::near_in_norm(dx, ops::conv2d_backward_data(dy, w, c.x, c.options), 1e-5)) << "input gradient";
  }
}

}  // namespace
}  // namespace gcam
