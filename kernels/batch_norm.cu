// batch_norm.cu — batch normalisation on the GPU, inference and training, forward and backward
// (formulas in gcam/ops/batch_norm.h; the CPU version is src/ops/batch_norm.cpp).
//
// Per-channel statistics: one block per channel reduces over (N, H, W) in double, as the CPU does.
// The elementwise parts run over all elements, channel c = (i / plane) mod C.
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

struct Layout {
  int64_t batch, channels, plane;
  __device__ int64_t at(int64_t n, int64_t c, int64_t i) const { return (n * channels + c) * plane + i; }
  __device__ int64_t count() const { return batch * plane; }
};

// Block c: μ and 1/√(σ² + ε) of channel c — the batch's (two passes: mean, then squared deviations),
// updating the running statistics, or the running ones at inference.
__global__ void channel_statistics(const float* x, Layout l, float* running_mean, float* running_var,
                                   bool training, float momentum, float eps, float* mean, float* invstd) {
  const int64_t c = blockIdx.x;
  double mu = running_mean[c], var = running_var[c];
  if (training) {
    const int64_t m = l.count();
    double sum = 0.0;
    for (int64_t k = threadIdx.x; k < m; k += blockDim.x) sum += x[l.at(k / l.plane, c, k % l.plane)];
    mu = block_sum(sum) / m;
    double sum_sq = 0.0;
    for (int64_t k = threadIdx.x; k < m; k += blockDim.x) {
      const double d = x[l.at(k / l.plane, c, k % l.plane)] - mu;
      sum_sq += d * d;
    }
    var = block_sum(sum_sq) / m;
    if (threadIdx.x == 0) {  // unbiased variance in the running estimate, as PyTorch
      running_mean[c] = static_cast<float>((1.0 - momentum) * running_mean[c] + momentum * mu);
      running_var[c] = static_cast<float>((1.0 - momentum) * running_var[c] + momentum * var * m / (m - 1));
    }
  }
  if (threadIdx.x == 0) {
    mean[c] = static_cast<float>(mu);
    invstd[c] = static_cast<float>(1.0 / sqrt(var + eps));
  }
}

// y = γ·(x − μ)·inv + β = x·scale + shift.
__global__ void normalize(const float* x, Layout l, const float* gamma, const float* beta, const float* mean,
                          const float* invstd, float* y, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t c = (i / l.plane) % l.channels;
    const float scale = gamma[c] * invstd[c];
    const float shift = beta[c] - mean[c] * scale;
    y[i] = x[i] * scale + shift;
  }
}

// Block c: Σ dy and Σ dy·x̂ over (N, H, W) (x may be null: then only Σ dy).
__global__ void gradient_sums(const float* dy, const float* x, Layout l, const float* mean, const float* invstd,
                              float* sum_dy_out, float* sum_dy_xhat_out) {
  const int64_t c = blockIdx.x;
  const float mu = mean[c], inv = invstd[c];
  double sum_dy = 0.0, sum_dy_xhat = 0.0;
  for (int64_t k = threadIdx.x; k < l.count(); k += blockDim.x) {
    const int64_t i = l.at(k / l.plane, c, k % l.plane);
    sum_dy += dy[i];
    if (x) sum_dy_xhat += double(dy[i]) * (x[i] - mu) * inv;
  }
  sum_dy = block_sum(sum_dy);
  sum_dy_xhat = block_sum(sum_dy_xhat);
  if (threadIdx.x == 0) {
    sum_dy_out[c] = static_cast<float>(sum_dy);
    sum_dy_xhat_out[c] = static_cast<float>(sum_dy_xhat);
  }
}

// Inference: dx = γ·dy·inv. Training, with g = γ·dy and means over (N, H, W):
//   dx = (g − mean(g) − x̂·mean(g·x̂))·inv,   mean(g) = γ·Σdy/M,  mean(g·x̂) = γ·Σdy·x̂/M.
__global__ void input_gradient(const float* dy, const float* x, Layout l, const float* gamma, const float* mean,
                               const float* invstd, const float* sum_dy, const float* sum_dy_xhat, bool training,
                               float* dx, int64_t n) {
  const double m = static_cast<double>(l.count());
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t c = (i / l.plane) % l.channels;
    const double g = double(gamma[c]) * dy[i], inv = invstd[c];
    if (training) {
      const double xhat = (x[i] - mean[c]) * inv;
      const double mean_g = gamma[c] * double(sum_dy[c]) / m, mean_g_xhat = gamma[c] * double(sum_dy_xhat[c]) / m;
      dx[i] = static_cast<float>((g - mean_g - xhat * mean_g_xhat) * inv);
    } else {
      dx[i] = static_cast<float>(g * inv);
    }
  }
}

}  // namespace

BatchNormResult batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                           Tensor& running_var, bool training, float momentum, float eps) {
  const Layout l{x.size(0), x.size(1), x.size(2) * x.size(3)};
  BatchNormResult r{device_empty(x.shape()), device_empty(Shape{l.channels}), device_empty(Shape{l.channels})};
  if (l.channels == 0) return r;
  channel_statistics<<<static_cast<unsigned>(l.channels), kThreads, 0, stream()>>>(
      x.data(), l, running_mean.data(), running_var.data(), training, momentum, eps, r.mean.data(), r.invstd.data());
  GCAM_CHECK_LAUNCH();
  const int64_t n = x.numel();
  if (n == 0) return r;
  normalize<<<grid_for(n), kThreads, 0, stream()>>>(x.data(), l, gamma.data(), beta.data(), r.mean.data(),
                                                    r.invstd.data(), r.y.data(), n);
  GCAM_CHECK_LAUNCH();
  return r;
}

std::vector<Tensor> batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& invstd, bool training, const std::vector<bool>& needs) {
  const Layout l{dy.size(0), dy.size(1), dy.size(2) * dy.size(3)};
  const Shape per_channel{l.channels};
  Tensor sum_dy = device_empty(per_channel), sum_dy_xhat = device_empty(per_channel);
  const float* xp = x.defined() ? x.data() : nullptr;
  if (l.channels > 0) {
    gradient_sums<<<static_cast<unsigned>(l.channels), kThreads, 0, stream()>>>(
        dy.data(), xp, l, mean.data(), invstd.data(), sum_dy.data(), sum_dy_xhat.data());
    GCAM_CHECK_LAUNCH();
  }
  std::vector<Tensor> grads(3);
  if (needs[0]) {
    grads[0] = device_empty(dy.shape());
    const int64_t n = dy.numel();
    if (n > 0) {
      input_gradient<<<grid_for(n), kThreads, 0, stream()>>>(dy.data(), xp, l, gamma.data(), mean.data(),
                                                             invstd.data(), sum_dy.data(), sum_dy_xhat.data(),
                                                             training, grads[0].data(), n);
      GCAM_CHECK_LAUNCH();
    }
  }
  if (needs[1]) grads[1] = sum_dy_xhat;  // dγ = Σ dy·x̂
  if (needs[2]) grads[2] = sum_dy;       // dβ = Σ dy
  return grads;
}

}  // namespace gcam::cuda
