// add.cu — elementwise sums and products: a + b, acc += x, a ⊙ b.
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

struct Plus {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct Times {
  __device__ float operator()(float a, float b) const { return a * b; }
};

// y[i] = op(a[i], b[i]); y may be a (acc += x).
template <typename Op>
__global__ void binary_kernel(const float* a, const float* b, float* y, int64_t n, Op op) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) y[i] = op(a[i], b[i]);
}

template <typename Op>
void launch_binary(const float* a, const float* b, float* y, int64_t n, Op op) {
  if (n == 0) return;
  binary_kernel<<<grid_for(n), kThreads, 0, stream()>>>(a, b, y, n, op);
  GCAM_CHECK_LAUNCH();
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = device_empty(a.shape());
  launch_binary(a.data(), b.data(), y.data(), a.numel(), Plus{});
  return y;
}

void add_into(Tensor& acc, const Tensor& x) { launch_binary(acc.data(), x.data(), acc.data(), acc.numel(), Plus{}); }

Tensor multiply(const Tensor& a, const Tensor& b) {
  Tensor y = device_empty(a.shape());
  launch_binary(a.data(), b.data(), y.data(), a.numel(), Times{});
  return y;
}

}  // namespace gcam::cuda
