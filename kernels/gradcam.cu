// gradcam.cu — Grad-CAM's reduction fused into one launch (formulas in gcam/cam.h; CPU:
// src/cam/gradcam.cpp). One block per image n:
//   1. α_k = (1/hw) Σ_p ∂y/∂A[n,k,p]      one warp per channel at a time, in double; α kept in shared memory
//   2. L_p = Σ_k α_k A[n,k,p]              the block's threads split the pixels × channel slices; the slices'
//                                          partial sums (double) are added in slice order (deterministic)
//   3. L = ReLU(L), then (L − min)/(max − min + ε), or all zeros (flagged) when max = min = 0
// A and ∂y/∂A are each read once; only α, the raw and the normalised maps are written.
#include "../src/cuda/cam.h"
#include "gcam/cam.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

constexpr int kCamThreads = 512;

__global__ void gradcam_fused(const float* A, const float* dA, int64_t K, int64_t plane, float sign, float* alpha_out,
                              float* raw_out, float* map_out, float* zero_out) {
  extern __shared__ double shared[];  // [K] α, then [kCamThreads] partial sums
  double* alpha = shared;
  double* partial = shared + K;
  const int64_t n = blockIdx.x;
  const float* a_n = A + n * K * plane;
  const float* g_n = dA + n * K * plane;
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;

  // 1. channel weights
  for (int64_t k = warp; k < K; k += warps) {
    double s = 0.0;
    for (int64_t p = lane; p < plane; p += 32) s += g_n[k * plane + p];
    for (int offset = 16; offset > 0; offset /= 2) s += __shfl_down_sync(0xffffffffu, s, offset);
    if (lane == 0) {
      const double a = sign * (s / static_cast<double>(plane));
      alpha[k] = a;
      alpha_out[n * K + k] = static_cast<float>(sign * a);  // α itself, unsigned by the counterfactual
    }
  }
  __syncthreads();

  // 2. weighted sum: thread t takes pixel t mod P of slice t div P (P = min(plane, blockDim)).
  const int64_t P = plane < blockDim.x ? plane : blockDim.x;
  const int64_t slices = blockDim.x / P;
  const int64_t t = threadIdx.x, slice = t / P;
  for (int64_t base = 0; base < plane; base += P) {
    const int64_t p = base + t % P;
    double s = 0.0;
    if (slice < slices && p < plane)
      for (int64_t k = slice; k < K; k += slices) s += alpha[k] * a_n[k * plane + p];
    partial[t] = s;
    __syncthreads();
    if (t < P && p < plane) {
      double total = 0.0;
      for (int64_t j = 0; j < slices; ++j) total += partial[j * P + t];
      raw_out[n * plane + p] = total > 0.0 ? static_cast<float>(total) : 0.0f;  // ReLU
    }
    __syncthreads();
  }

  // 3. min-max normalisation (the raw map is in global memory, written by this block: visible after the barrier)
  float lo = INFINITY, hi = -INFINITY;
  for (int64_t p = t; p < plane; p += blockDim.x) {
    const float v = raw_out[n * plane + p];
    lo = fminf(lo, v);
    hi = fmaxf(hi, v);
  }
  hi = block_max(hi);
  lo = -block_max(-lo);
  const bool zero = hi == 0.0f && lo == 0.0f;
  if (t == 0) zero_out[n] = zero ? 1.0f : 0.0f;
  const float range = hi - lo;
  for (int64_t p = t; p < plane; p += blockDim.x) {
    const float v = raw_out[n * plane + p];
    map_out[n * plane + p] = zero ? 0.0f : (v - lo) / (range + cam::kNormalizeEps);
  }
}

// Block n: the top-1 class of row n (first of equal maxima) unless a class is given, then the one-hot row.
__global__ void seed_rows(const float* logits, int64_t classes, const int32_t* wanted, int32_t* chosen, float* seed) {
  const int64_t n = blockIdx.x;
  const float* row = logits + n * classes;
  __shared__ float best_value[kCamThreads];
  __shared__ int64_t best_index[kCamThreads];
  float v = -INFINITY;
  int64_t at = classes;  // "none yet": larger than every index
  for (int64_t c = threadIdx.x; c < classes; c += blockDim.x)
    if (row[c] > v || (row[c] == v && c < at)) v = row[c], at = c;
  best_value[threadIdx.x] = v;
  best_index[threadIdx.x] = at;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {  // tree: larger value, then lower index
    if (threadIdx.x < stride) {
      const float ov = best_value[threadIdx.x + stride];
      const int64_t oi = best_index[threadIdx.x + stride];
      if (ov > best_value[threadIdx.x] || (ov == best_value[threadIdx.x] && oi < best_index[threadIdx.x]))
        best_value[threadIdx.x] = ov, best_index[threadIdx.x] = oi;
    }
    __syncthreads();
  }
  // (A row of NaNs has no maximum: class 0 then, so that the index stays in range.)
  const int64_t c_star = wanted[n] >= 0 ? wanted[n] : (best_index[0] < classes ? best_index[0] : 0);
  if (threadIdx.x == 0) chosen[n] = static_cast<int32_t>(c_star);
  for (int64_t c = threadIdx.x; c < classes; c += blockDim.x) seed[n * classes + c] = c == c_star ? 1.0f : 0.0f;
}

}  // namespace

Tensor one_hot_seed(const Tensor& logits, const DeviceArray<int32_t>& classes, DeviceArray<int32_t>& chosen) {
  const int64_t N = logits.size(0), C = logits.size(1);
  GCAM_CHECK(classes.size() == N && chosen.size() == N, "one_hot_seed: ", classes.size(), " classes for ", N, " rows");
  Tensor seed = device_empty(logits.shape());
  if (N == 0) return seed;
  seed_rows<<<static_cast<unsigned>(N), kCamThreads, 0, stream()>>>(logits.data(), C, classes.data(), chosen.data(),
                                                                     seed.data());
  GCAM_CHECK_LAUNCH();
  return seed;
}

GradcamMaps gradcam_maps(const Tensor& activations, const Tensor& gradients, bool counterfactual, bool copy_flags) {
  const int64_t N = activations.size(0), K = activations.size(1), h = activations.size(2), w = activations.size(3);
  GradcamMaps r{device_empty(Shape{N, K}), device_empty(Shape{N, h, w}), device_empty(Shape{N, h, w}),
                device_empty(Shape{N}), {}};
  if (N == 0) return r;
  Tensor& zero = r.zero_flags;
  const size_t shared = static_cast<size_t>(K + kCamThreads) * sizeof(double);
  GCAM_CHECK(shared <= 48 * 1024, "gradcam: ", K, " channels exceed the fused kernel's shared memory");
  gradcam_fused<<<static_cast<unsigned>(N), kCamThreads, shared, stream()>>>(
      activations.data(), gradients.data(), K, h * w, counterfactual ? -1.0f : 1.0f, r.alpha.data(), r.raw.data(),
      r.map.data(), zero.data());
  GCAM_CHECK_LAUNCH();
  if (copy_flags)
    for (float flag : zero.to(Device::CPU).to_vector()) r.all_zero.push_back(flag != 0.0f);
  return r;
}

}  // namespace gcam::cuda
