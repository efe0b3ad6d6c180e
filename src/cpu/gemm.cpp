// gemm.cpp — SGEMM through OpenBLAS's CBLAS interface, split across threads by gcam.
//
// Measured on the 2-core development machine (bench/compare_conv.py's shapes): OpenBLAS's own two-thread
// SGEMM reaches 60–110 GFLOP/s on convolution-sized products, while two single-threaded SGEMMs on
// halves of the output reach 140–160. So a large product is cut into one band per thread and each
// thread runs a single-threaded SGEMM on its band (inside an OpenMP parallel region OpenBLAS uses one
// thread). The bands are rows of C when each thread gets at least kMinRowBand of them, else bands of
// the longer side: whole rows are written faster where writing C is what bounds the product (a 1×1
// convolution's 256 × 3136 × 64: rows 1.13 ms, columns 1.20; in a ResNet-50 layer1.0.conv3 batch-1
// forward, in-process A/B of 21 alternating calls, 1.195 → 0.976 ms) and the same elsewhere (eight
// other convolution and linear shapes: 0.96–1.02). Calls made from inside a parallel region run as they are.
#include "gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>

#include "gcam/error.h"

namespace gcam::cpu {

namespace {

constexpr double kSplitFlops = 2e6;  // below this, one call is cheaper than waking threads
constexpr int64_t kBandAlign = 16;   // band edges on multiples of 16 rows/columns
constexpr int64_t kMinRowBand = 64;  // rows per thread from which C is cut into row bands however wide

void sgemm_one_thread(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                      const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  // One row or one column of C is a matrix-vector product. SGEMM would first copy the matrix into its
  // packed panels (a linear layer's weights at batch 1: VGG-16's first, 411 MB, read, written and read
  // again); SGEMV reads it once. As vectors: a row of op(A) (1 × k) is a's row, or its column when ta
  // (elements lda apart); a column of op(B) (k × 1) is b's column (ldb apart), or its row when tb.
  if (m == 1) {  // c (1 × n) = a (1 × k) · op(B):  cᵀ = op(B)ᵀ · aᵀ
    cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, static_cast<int>(tb ? n : k), static_cast<int>(tb ? k : n),
                alpha, b, static_cast<int>(ldb), a, ta ? static_cast<int>(lda) : 1, beta, c, 1);
    return;
  }
  if (n == 1) {  // c (m × 1) = op(A) · b (k × 1), c's elements ldc apart
    cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, static_cast<int>(ta ? k : m), static_cast<int>(ta ? m : k),
                alpha, a, static_cast<int>(lda), b, tb ? 1 : static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
              beta, c, static_cast<int>(ldc));
}

}  // namespace

void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  // CBLAS takes int dimensions: a larger matrix would silently wrap.
  GCAM_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
                 ldc <= INT_MAX,
             "sgemm: matrix too large for BLAS (", m, "x", n, "x", k, ")");
  if (m == 0 || n == 0) return;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const bool split_rows = m >= n || m >= kMinRowBand * threads;
  const int64_t side = split_rows ? m : n;
  if (threads < 2 || 2.0 * m * n * k < kSplitFlops || side < 2 * kBandAlign) {
    sgemm_one_thread(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const int64_t band = (side + threads - 1) / threads;
  const int64_t aligned = (band + kBandAlign - 1) / kBandAlign * kBandAlign;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int t = 0; t < threads; ++t) {
    const int64_t begin = std::min(side, t * aligned), end = std::min(side, begin + aligned);
    if (begin >= end) continue;
    if (split_rows) {  // rows [begin, end) of C come from rows [begin, end) of op(A)
      const float* a_band = transpose_a ? a + begin : a + begin * lda;
      sgemm_one_thread(transpose_a, transpose_b, end - begin, n, k, alpha, a_band, lda, b, ldb, beta, c + begin * ldc, ldc);
    } else {  // columns [begin, end) of C come from columns [begin, end) of op(B)
      const float* b_band = transpose_b ? b + begin * ldb : b + begin;
      sgemm_one_thread(transpose_a, transpose_b, m, end - begin, k, alpha, a, lda, b_band, ldb, beta, c + begin, ldc);
    }
  }
}

}  // namespace gcam::cpu
