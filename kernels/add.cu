// add.cu — elementwise sums and products: a + b, acc += x, a ⊙ b.
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

__global__ void add_kernel(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = a[i] + b[i];
}

__global__ void add_into_kernel(float* acc, const float* x, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) acc[i] += x[i];
}

__global__ void multiply_kernel(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = a[i] * b[i];
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = device_empty(a.shape());
  const int64_t n = a.numel();
  if (n == 0) return y;
  add_kernel<<<grid_for(n), kThreads, 0, stream()>>>(a.data(), b.data(), y.data(), n);
  GCAM_CHECK_LAUNCH();
  return y;
}

void add_into(Tensor& acc, const Tensor& x) {
  const int64_t n = acc.numel();
  if (n == 0) return;
  add_into_kernel<<<grid_for(n), kThreads, 0, stream()>>>(acc.data(), x.data(), n);
  GCAM_CHECK_LAUNCH();
}

Tensor multiply(const Tensor& a, const Tensor& b) {
  Tensor y = device_empty(a.shape());
  const int64_t n = a.numel();
  if (n == 0) return y;
  multiply_kernel<<<grid_for(n), kThreads, 0, stream()>>>(a.data(), b.data(), y.data(), n);
  GCAM_CHECK_LAUNCH();
  return y;
}

}  // namespace gcam::cuda
