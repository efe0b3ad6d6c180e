// linear.cu — the fully connected layer on the GPU through cuBLAS (formulas in gcam/ops/linear.h; CPU:
// src/ops/linear.cpp). Row-major y (N, out) = x (N, in) · wᵀ + b.
//
// The products go through gemm.h's row-major helper, so each pass reads as its formula.
#include "../src/cuda/ops.h"
#include "gemm.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

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
