// test_gemm.cpp — cpu::sgemm (src/cpu/gemm.h), which every convolution and linear layer on the CPU goes
// through, against the plain triple loop: each transposition of A and B, leading dimensions wider than
// the matrices, α and β, products split across the threads or not, and the one-row and one-column
// products it hands to SGEMV (a linear layer at batch 1, a convolution with one output channel or one
// output pixel). With β = 0, C must not be read: it starts as NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm.h"  // internal

namespace gcam {
namespace {

struct Product {
  int64_t m, n, k;
};

TEST(Sgemm, EqualsTheTripleLoop) {
  // (the last three: 2·m·n·k ≥ 2e6, so each thread takes a band of C)
  const std::vector<Product> products = {{23, 31, 19}, {1, 37, 53}, {29, 1, 41}, {1, 1, 17},
                                         {1, 1200, 1000}, {1000, 1, 1200}, {70, 90, 200}};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (const Product& p : products)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (float beta : {0.0f, 0.75f}) {
          SCOPED_TRACE("m " + std::to_string(p.m) + " n " + std::to_string(p.n) + " k " + std::to_string(p.k) +
                       (ta ? " Aᵀ" : " A") + (tb ? " Bᵀ" : " B") + " β " + std::to_string(beta));
          // Stored shapes (row-major): A is (m, k), or (k, m) when ta; B is (k, n), or (n, k) when tb;
          // each row 3 floats wider than it needs.
          const int64_t a_rows = ta ? p.k : p.m, a_cols = ta ? p.m : p.k, lda = a_cols + 3;
          const int64_t b_rows = tb ? p.n : p.k, b_cols = tb ? p.k : p.n, ldb = b_cols + 3, ldc = p.n + 3;
          std::vector<float> a(a_rows * lda), b(b_rows * ldb), c(p.m * ldc);
          for (float& v : a) v = uniform(rng);
          for (float& v : b) v = uniform(rng);
          for (float& v : c) v = beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : uniform(rng);
          const std::vector<float> c_before = c;
          const auto A = [&](int64_t i, int64_t l) { return ta ? a[l * lda + i] : a[i * lda + l]; };
          const auto B = [&](int64_t l, int64_t j) { return tb ? b[j * ldb + l] : b[l * ldb + j]; };
          cpu::sgemm(ta, tb, p.m, p.n, p.k, 0.5f, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
          double worst = 0.0;
          for (int64_t i = 0; i < p.m; ++i) {
            for (int64_t j = 0; j < p.n; ++j) {
              double expected = beta == 0.0f ? 0.0 : double(beta) * c_before[i * ldc + j];
              for (int64_t l = 0; l < p.k; ++l) expected += 0.5 * double(A(i, l)) * B(l, j);
              const double error = std::fabs(c[i * ldc + j] - expected);
              worst = std::isnan(error) ? INFINITY : std::max(worst, error);
            }
            for (int64_t j = p.n; j < ldc; ++j)  // past the matrix: untouched
              ASSERT_TRUE(std::isnan(c_before[i * ldc + j]) ? std::isnan(c[i * ldc + j]) : c[i * ldc + j] == c_before[i * ldc + j]);
          }
          EXPECT_LT(worst, 1e-4 * std::sqrt(double(p.k)));
        }
}

}  // namespace
}  // namespace gcam
