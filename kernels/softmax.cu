// softmax.cu — softmax and log-softmax over dimension 1 of (N, classes), forward and backward; one
// block per row (formulas in gcam/ops/softmax.h; CPU: src/ops/softmax.cpp).
//   forward   log y_i = x_i − m − log Σ_j exp(x_j − m),  m = max_j x_j   (sum in double, as the CPU)
//   backward  softmax:      dx_i = y_i·(dy_i − Σ_j dy_j·y_j)
//             log-softmax:  dx_i = dy_i − exp(y_i)·Σ_j dy_j
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

__global__ void softmax_forward(const float* x, float* y, int64_t classes, bool log_output) {
  const float* in = x + blockIdx.x * classes;
  float* out = y + blockIdx.x * classes;
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < classes; i += blockDim.x) m = fmaxf(m, in[i]);
  m = block_max(m);
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < classes; i += blockDim.x) sum += exp(double(in[i]) - m);
  const double lse = log(block_sum(sum));
  for (int64_t i = threadIdx.x; i < classes; i += blockDim.x) {
    const double shifted = double(in[i]) - m - lse;
    out[i] = static_cast<float>(log_output ? shifted : exp(shifted));
  }
}

__global__ void softmax_backward_kernel(const float* dy, const float* y, float* dx, int64_t classes, bool log_output) {
  const int64_t base = blockIdx.x * classes;
  double dot = 0.0;
  for (int64_t i = threadIdx.x; i < classes; i += blockDim.x)
    dot += log_output ? double(dy[base + i]) : double(dy[base + i]) * y[base + i];
  dot = block_sum(dot);
  for (int64_t i = threadIdx.x; i < classes; i += blockDim.x) {
    const int64_t k = base + i;
    dx[k] = log_output ? static_cast<float>(dy[k] - exp(double(y[k])) * dot) : static_cast<float>(y[k] * (dy[k] - dot));
  }
}

}  // namespace

Tensor softmax(const Tensor& x, bool log) {
  Tensor y = device_empty(x.shape());
  if (x.size(0) == 0) return y;
  softmax_forward<<<static_cast<unsigned>(x.size(0)), kThreads, 0, stream()>>>(x.data(), y.data(), x.size(1), log);
  GCAM_CHECK_LAUNCH();
  return y;
}

Tensor softmax_backward(const Tensor& dy, const Tensor& y, bool log) {
  Tensor dx = device_empty(y.shape());
  if (y.size(0) == 0) return dx;
  softmax_backward_kernel<<<static_cast<unsigned>(y.size(0)), kThreads, 0, stream()>>>(dy.data(), y.data(),
                                                                                      dx.data(), y.size(1), log);
  GCAM_CHECK_LAUNCH();
  return dx;
}

}  // namespace gcam::cuda
