// linear.cu — the fully connected layer on the GPU through cuBLAS (formulas in gcam/ops/linear.h; CPU:
// src/ops/linear.cpp). Row-major y (N, out) = x (N, in) · wᵀ + b.
//
// cuBLAS is column-major; a row-major matrix is the column-major matrix of its transpose. So a
// row-major product C (m×n) = op(A) · op(B) is the column-major call C = op(B) · op(A) with the
// operands and m, n swapped — the helper below does exactly that, so each pass reads as its formula.
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

// Row-major C (m×n) = α · op(A) · op(B) + β · C, with op(A) (m×k) and op(B) (k×n).
void gemm_row_major(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  GCAM_CUDA_CHECK(cublas_functions().sgemm(cublas(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m), int(k), &alpha, b,
                                           int(ldb), a, int(lda), &beta, c, int(ldc)));
}

__global__ void fill_rows_with_bias(const float* bias, float* y, int64_t rows, int64_t out) {
  const int64_t n = rows * out;
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = bias[i % out];
}

// db[o] = Σ_n dy[n, o], one thread per column, rows in order (deterministic).
__global__ void sum_rows(const float* dy, float* db, int64_t rows, int64_t out) {
  for (int64_t o = first_index(); o < out; o += grid_stride()) {
    float sum = 0.0f;
    for (int64_t n = 0; n < rows; ++n) sum += dy[n * out + o];
    db[o] = sum;
  }
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const int64_t batch = x.size(0), in = x.size(1), out = w.size(0);
  Tensor y = device_empty(Shape{batch, out});
  if (y.numel() == 0) return y;
  if (bias.defined()) {  // start from b in every row, then add x · wᵀ
    fill_rows_with_bias<<<grid_for(y.numel()), kThreads, 0, stream()>>>(bias.data(), y.data(), batch, out);
    GCAM_CHECK_LAUNCH();
  }
  if (in == 0) {
    if (!bias.defined()) return device_zeros(Shape{batch, out});
    return y;
  }
  gemm_row_major(false, true, batch, out, in, 1.0f, x.data(), in, w.data(), in, bias.defined() ? 1.0f : 0.0f,
                 y.data(), out);
  return y;
}

Tensor linear_backward_input(const Tensor& dy, const Tensor& w) {  // dx (N, in) = dy (N, out) · w (out, in)
  const int64_t batch = dy.size(0), out = w.size(0), in = w.size(1);
  if (out == 0) return device_zeros(Shape{batch, in});
  Tensor dx = device_empty(Shape{batch, in});
  if (dx.numel() > 0) gemm_row_major(false, false, batch, in, out, 1.0f, dy.data(), out, w.data(), in, 0.0f, dx.data(), in);
  return dx;
}

Tensor linear_backward_weight(const Tensor& dy, const Tensor& x) {  // dw (out, in) = dyᵀ (out, N) · x (N, in)
  const int64_t batch = x.size(0), in = x.size(1), out = dy.size(1);
  if (batch == 0) return device_zeros(Shape{out, in});
  Tensor dw = device_empty(Shape{out, in});
  if (dw.numel() > 0) gemm_row_major(true, false, out, in, batch, 1.0f, dy.data(), out, x.data(), in, 0.0f, dw.data(), in);
  return dw;
}

Tensor linear_backward_bias(const Tensor& dy) {
  const int64_t batch = dy.size(0), out = dy.size(1);
  Tensor db = device_empty(Shape{out});
  if (out == 0) return db;
  sum_rows<<<grid_for(out), kThreads, 0, stream()>>>(dy.data(), db.data(), batch, out);
  GCAM_CHECK_LAUNCH();
  return db;
}

}  // namespace gcam::cuda
