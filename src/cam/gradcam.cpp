// gradcam.cpp — channel weights, the weighted map, per-image normalisation (formulas in gcam/cam.h).
#include <algorithm>
#include <cmath>

#include "gcam/cam.h"
#include "gcam/error.h"

namespace gcam::cam {

Tensor channel_weights(const Tensor& grad) {
  check_ndim("channel_weights", "gradient", grad, 4);
  GCAM_CHECK(grad.device() == Device::CPU, "channel_weights: CPU tensors only");
  const int64_t N = grad.size(0), K = grad.size(1), plane = grad.size(2) * grad.size(3);
  Tensor alpha = Tensor::empty(Shape{N, K});
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const float* g = grad.data() + (n * K + k) * plane;
      double sum = 0.0;  // α_k = mean_ij ∂y/∂A_kij
      for (int64_t i = 0; i < plane; ++i) sum += g[i];
      alpha.data()[n * K + k] = static_cast<float>(sum / static_cast<double>(plane));
    }
  return alpha;
}

Tensor weighted_map(const Tensor& activations, const Tensor& alpha, bool counterfactual) {
  check_ndim("weighted_map", "activations", activations, 4);
  check_ndim("weighted_map", "channel weights", alpha, 2);
  const int64_t N = activations.size(0), K = activations.size(1), h = activations.size(2), w = activations.size(3);
  check_same_shape("weighted_map", "channel weights", Shape{N, K}, alpha.shape());
  const float sign = counterfactual ? -1.0f : 1.0f;
  Tensor map = Tensor::empty(Shape{N, h, w});
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    std::vector<double> sum(static_cast<size_t>(h * w), 0.0);  // Σ_k α_k A_k, accumulated in double
    for (int64_t k = 0; k < K; ++k) {
      const double a = sign * alpha.data()[n * K + k];
      const float* A = activations.data() + (n * K + k) * h * w;
      for (int64_t i = 0; i < h * w; ++i) sum[i] += a * A[i];
    }
    float* out = map.data() + n * h * w;
    for (int64_t i = 0; i < h * w; ++i) out[i] = sum[i] > 0.0 ? static_cast<float>(sum[i]) : 0.0f;  // ReLU
  }
  return map;
}

void normalize_maps(Tensor& maps, std::vector<bool>* all_zero) {
  GCAM_CHECK(maps.ndim() >= 2, "normalize_maps: expected (N, h, w), got ", maps.shape().str());
  const int64_t N = maps.size(0), plane = maps.numel() / std::max<int64_t>(N, 1);
  if (all_zero) all_zero->assign(static_cast<size_t>(N), false);
  for (int64_t n = 0; n < N; ++n) {
    float* m = maps.data() + n * plane;
    const auto [lo, hi] = std::minmax_element(m, m + plane);
    const float low = *lo, range = *hi - *lo;
    if (*hi == 0.0f && *lo == 0.0f) {  // nothing to show: zeros, said so, never 0/0
      if (all_zero) (*all_zero)[n] = true;
      continue;
    }
    for (int64_t i = 0; i < plane; ++i) m[i] = (m[i] - low) / (range + kNormalizeEps);
  }
}

}  // namespace gcam::cam
