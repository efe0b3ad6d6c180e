// relu.cu — ReLU forward and its three backward rules (formulas in gcam/ops/relu.h).
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

__global__ void relu_kernel(const float* x, float* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// y > 0 exactly where x > 0, so the forward output stands in for the input.
__global__ void relu_backward_kernel(const float* dy, const float* y, float* dx, int64_t n, ReluRule rule) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const float g = dy[i];
    bool pass = false;
    switch (rule) {
      case ReluRule::Standard: pass = y[i] > 0.0f; break;               // dy · [x > 0]
      case ReluRule::Guided: pass = y[i] > 0.0f && g > 0.0f; break;     // dy · [x > 0] · [dy > 0]
      case ReluRule::Deconvnet: pass = g > 0.0f; break;                 // dy · [dy > 0]
    }
    dx[i] = pass ? g : 0.0f;
  }
}

}  // namespace

Tensor relu(const Tensor& x) {
  Tensor y = device_empty(x.shape());
  const int64_t n = x.numel();
  if (n == 0) return y;
  relu_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x.data(), y.data(), n);
  GCAM_CHECK_LAUNCH();
  return y;
}

Tensor relu_backward(const Tensor& dy, const Tensor& y, ReluRule rule) {
  Tensor dx = device_empty(y.shape());
  const int64_t n = y.numel();
  if (n == 0) return dx;
  relu_backward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dy.data(), y.data(), dx.data(), n, rule);
  GCAM_CHECK_LAUNCH();
  return dx;
}

}  // namespace gcam::cuda
