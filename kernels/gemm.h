// gemm.h — row-major matrix products through cuBLAS (internal to kernels/).
//
// cuBLAS is column-major; a row-major matrix is the column-major matrix of its transpose. So a
// row-major product C (m×n) = op(A) · op(B) is the column-major call Cᵀ = op(B)ᵀ · op(A)ᵀ, that is
// cuBLAS's C = op(B) · op(A) with the operands and m, n swapped. The helpers below do exactly that, so
// that each caller reads as its formula. The math mode (FP32 or TF32) is the handle's (runtime.cu).
#pragma once

#include <cstdint>

#include "cuda_check.h"

namespace gcam::cuda {

// Row-major C (m×n) = α · op(A) · op(B) + β · C, with op(A) (m×k) and op(B) (k×n).
inline void gemm_row_major(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
                           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                           int64_t ldc) {
  GCAM_CUDA_CHECK(cublas_functions().sgemm(cublas(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m), int(k), &alpha, b,
                                           int(ldb), a, int(lda), &beta, c, int(ldc)));
}

// The same product for `count` independent triples at fixed strides (in floats): C_i = op(A_i)·op(B_i),
// with A_i = a + i·stride_a and so on. A stride of 0 shares one matrix between all of them.
inline void gemm_row_major_batched(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                                   const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                                   int64_t stride_b, float* c, int64_t ldc, int64_t stride_c, int64_t count) {
  const float one = 1.0f, zero = 0.0f;
  GCAM_CUDA_CHECK(cublas_functions().sgemm_strided_batched(
      cublas(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N, transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m),
      int(k), &one, b, int(ldb), stride_b, a, int(lda), stride_a, &zero, c, int(ldc), stride_c, int(count)));
}

}  // namespace gcam::cuda
