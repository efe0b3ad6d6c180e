// gemm.h — the single matrix-multiply entry point of the CPU backend (internal).
//
//   C (M×N) = alpha · op(A) · op(B) + beta · C,   row-major, op(X) = X or Xᵀ.
//
// Backed by OpenBLAS's SGEMM (built with OpenMP, so it shares one thread pool with gcam's own loops).
#pragma once

#include <cstdint>

namespace gcam::cpu {

void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

}  // namespace gcam::cpu
