// cross_entropy.cu — mean cross-entropy from logits on the GPU (formulas in gcam/ops/cross_entropy.h;
// CPU: src/ops/cross_entropy.cpp). The probabilities come from the softmax kernel; the loss is
//   L = (1/N) Σ_n −log softmax(x_n)[t_n],   dL/dx_n = (p_n − onehot(t_n)) · dL / N.
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

// One block: the mean over rows of −log softmax(x)[t] = log Σ_j exp(x_j − m) + m − x_t, from the
// logits (not from p, which can underflow to 0), in double, one row per thread.
__global__ void mean_negative_log_likelihood(const float* logits, const int32_t* labels, int64_t rows,
                                             int64_t classes, float* loss) {
  double total = 0.0;
  for (int64_t n = threadIdx.x; n < rows; n += blockDim.x) {
    const float* x = logits + n * classes;
    float m = x[0];
    for (int64_t i = 1; i < classes; ++i) m = fmaxf(m, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < classes; ++i) sum += exp(double(x[i]) - m);
    total += m + log(sum) - x[labels[n]];
  }
  total = block_sum(total);
  if (threadIdx.x == 0) loss[0] = static_cast<float>(total / rows);
}

__global__ void cross_entropy_gradient(const float* dy, const float* probabilities, const int32_t* labels,
                                       int64_t rows, int64_t classes, float* dx, int64_t n) {
  const float scale = dy[0] / static_cast<float>(rows);
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t row = i / classes, c = i % classes;
    dx[i] = (probabilities[i] - (c == labels[row] ? 1.0f : 0.0f)) * scale;
  }
}

}  // namespace

CrossEntropyResult cross_entropy(const Tensor& logits, const DeviceArray<int32_t>& labels) {
  CrossEntropyResult r{device_empty(Shape{1}), softmax(logits, false)};
  mean_negative_log_likelihood<<<1, kThreads, 0, stream()>>>(logits.data(), labels.data(), logits.size(0),
                                                             logits.size(1), r.loss.data());
  GCAM_CHECK_LAUNCH();
  return r;
}

Tensor cross_entropy_backward(const Tensor& dy, const Tensor& probabilities, const DeviceArray<int32_t>& labels) {
  Tensor dx = device_empty(probabilities.shape());
  const int64_t n = probabilities.numel();
  if (n == 0) return dx;
  cross_entropy_gradient<<<grid_for(n), kThreads, 0, stream()>>>(dy.data(), probabilities.data(), labels.data(),
                                                                 probabilities.size(0), probabilities.size(1),
                                                                 dx.data(), n);
  GCAM_CHECK_LAUNCH();
  return dx;
}

}  // namespace gcam::cuda
