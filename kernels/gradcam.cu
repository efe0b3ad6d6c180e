// gradcam.cu — Grad-CAM's reduction fused into one launch (formulas in gcam/cam.h; CPU:
// src/cam/gradcam.cpp), and the backward pass's one-hot seed.
//
// The reduction reads A and ∂y/∂A (N, K, h, w) once each; its speed is the memory bandwidth it keeps
// busy. One block per image would leave most of the GPU idle at small batches (16 images: 16 SMs of
// 132) and spend its time waiting on load latency, so each image's K channels are cut into S slices of
// C channels, one block per (slice s, image n) — N·S blocks:
//   1. stage   the slice's C·h·w values of ∂y/∂A and of A into shared memory, each thread's loads all
//              in flight at once (when they fit; larger planes are read from global memory by the same code)
//   2. α_k   = (1/hw) Σ_p ∂y/∂A[n,k,p]             a few lanes per channel, summed in double
//   3. part_s[p] = Σ_{k in slice s} α_k A[n,k,p]      a slice's share of the weighted sum, into global
//              scratch (double)
//   4. the slice block that finishes last for image n (an arrival counter, the threadfence-reduction
//      pattern of the CUDA programming guide; the engine's counters, which the last block sets back to
//      zero, so no memset precedes the launch) adds the S parts in slice order:
//      L_p = ReLU(Σ_s part_s[p]), then (L − min)/(max − min + ε), or all zeros (flagged) when max = min = 0.
// The latency of one block's chain is what a small batch waits for. H200, resnet50's layer4, graph
// replays (bench_cuda's cuda_fused_reduction rows): with eight dependent rounds of loads in step 1, a
// warp per channel in step 2 and a memset before each launch, 14.6 µs for 1 image, 18.6 for 16 and 50.5
// for 64 (inputs reused, so partly from L2); as now, 7.7, 12.5 and 28.1 µs with the inputs rotated so
// that they come from device memory (the floor there: 3.1 and 12.4 µs).
// Every sum runs in a fixed order, so a run gives the same bits each time. C = K gives one block per
// image (the tests use that to compare the two cuts).
#include "../src/cuda/cam.h"
#include "gcam/cam.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

constexpr int kCamThreads = 512;           // the seed kernel's block
constexpr int kSliceThreads = 256;         // the reduction's block
constexpr int kStageLoads = 16;            // per thread and tensor, all in flight at once
constexpr int64_t kStageFloats = kStageLoads * kSliceThreads;  // per tensor: 2 × 16 KB of shared memory
constexpr int64_t kMaxSliceChannels = 1024;

// Sums of one value per (group, pixel) thread: thread t covers pixel t mod P of group t div P,
// P = min(plane, blockDim), G = blockDim div P groups. For each run of P pixels, each thread sums
// term(i, p) over its group's items i = g, g + G, … < items, then thread p mod P adds the G group sums
// of its pixel in group order and hands the total (the same on every run) to finish(p, total).
template <typename Term, typename Finish>
__device__ void sum_over_groups(int64_t plane, int64_t items, double* group_sums, Term term, Finish finish) {
  const int64_t t = threadIdx.x, P = plane < blockDim.x ? plane : blockDim.x, G = blockDim.x / P, g = t / P;
  for (int64_t base = 0; base < plane; base += P) {
    const int64_t p = base + t % P;
    double s = 0.0;
    if (g < G && p < plane) {
#pragma unroll 4  // the loads of several items in flight (the sum's order stays the same)
      for (int64_t i = g; i < items; i += G) s += term(i, p);
    }
    group_sums[t] = s;
    __syncthreads();
    if (t < P && p < plane) {
      double total = 0.0;
      for (int64_t j = 0; j < G; ++j) total += group_sums[j * P + t];
      finish(p, total);
    }
    __syncthreads();
  }
}

__global__ void __launch_bounds__(kSliceThreads)
    gradcam_sliced(const float* A, const float* dA, int64_t K, int64_t plane, int64_t C, bool staged, int lanes,
                   float sign, float* alpha_out, double* parts, unsigned* arrivals, float* raw_out, float* map_out,
                   float* zero_out) {
  extern __shared__ double shared[];  // [blockDim] group sums, [C] α, then (staged) [C·plane] ∂y/∂A, [C·plane] A
  double* group_sums = shared;
  double* alpha = shared + blockDim.x;
  const int64_t s = blockIdx.x, S = gridDim.x, n = blockIdx.y, t = threadIdx.x;
  const int64_t k0 = s * C, c_here = (K - k0 < C ? K - k0 : C);  // channels [k0, k0 + c_here)
  const float* grad = dA + (n * K + k0) * plane;
  const float* act = A + (n * K + k0) * plane;

  // 1. stage: the slice is one contiguous run of c_here·plane floats in each tensor. Every thread
  //    issues all its loads (at most kStageLoads per tensor) before its first store, so the block
  //    waits for memory once, not once per few loads.
  if (staged) {
    float* grad_s = reinterpret_cast<float*>(alpha + C);
    float* act_s = grad_s + C * plane;
    const int64_t count = c_here * plane;  // ≤ kStageFloats = kStageLoads · kSliceThreads
    float g[kStageLoads], a[kStageLoads];
#pragma unroll
    for (int j = 0; j < kStageLoads; ++j) {
      const int64_t i = t + j * int64_t{kSliceThreads};
      if (i < count) g[j] = grad[i], a[j] = act[i];
    }
#pragma unroll
    for (int j = 0; j < kStageLoads; ++j) {
      const int64_t i = t + j * int64_t{kSliceThreads};
      if (i < count) grad_s[i] = g[j], act_s[i] = a[j];
    }
    __syncthreads();
    grad = grad_s, act = act_s;
  }

  // 2. α_k = (1/hw) Σ_p ∂y/∂A[n,k,p], signed by the counterfactual: `lanes` threads per channel (a
  //    power of two ≤ 32, chosen so that one pass covers the slice's channels where it can), each
  //    summing every lanes-th pixel in double, then a shuffle tree across those lanes. Every thread
  //    makes the same number of passes, so all lanes of a warp reach each shuffle.
  const int64_t per_pass = blockDim.x / lanes;
  for (int64_t c0 = 0; c0 < c_here; c0 += per_pass) {
    const int64_t c = c0 + t / lanes;
    double sum = 0.0;
    if (c < c_here) {
#pragma unroll 4
      for (int64_t p = t % lanes; p < plane; p += lanes) sum += grad[c * plane + p];
    }
    for (int offset = lanes / 2; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset, lanes);
    if (c < c_here && t % lanes == 0) {
      const double a = sum / static_cast<double>(plane);
      alpha[c] = sign * a;
      alpha_out[n * K + k0 + c] = static_cast<float>(a);
    }
  }
  __syncthreads();

  // 3. this slice's share of Σ_k α_k A_k
  double* part = parts + (n * S + s) * plane;
  sum_over_groups(
      plane, c_here, group_sums, [&](int64_t c, int64_t p) { return alpha[c] * act[c * plane + p]; },
      [&](int64_t p, double total) { part[p] = total; });

  // 4. the last slice of image n to arrive finishes its map
  __shared__ bool last;
  __threadfence();  // this block's parts are visible to every block before it is counted
  __syncthreads();
  if (t == 0) last = atomicAdd(arrivals + n, 1u) == static_cast<unsigned>(S - 1);
  __syncthreads();
  if (!last) return;
  if (t == 0) arrivals[n] = 0;  // zero again for the next launch (runtime.h: arrival_counters)
  __threadfence();
  const double* image_parts = parts + n * S * plane;
  float* raw = raw_out + n * plane;
  sum_over_groups(
      plane, S, group_sums, [&](int64_t j, int64_t p) { return __ldcg(image_parts + j * plane + p); },
      [&](int64_t p, double total) { raw[p] = total > 0.0 ? static_cast<float>(total) : 0.0f; });  // ReLU
  float lo = INFINITY, hi = -INFINITY;
  for (int64_t p = t; p < plane; p += blockDim.x) lo = fminf(lo, raw[p]), hi = fmaxf(hi, raw[p]);
  hi = block_max(hi);
  lo = -block_max(-lo);
  const bool zero = hi == 0.0f && lo == 0.0f;
  if (t == 0) zero_out[n] = zero ? 1.0f : 0.0f;
  const float range = hi - lo;
  for (int64_t p = t; p < plane; p += blockDim.x)
    map_out[n * plane + p] = zero ? 0.0f : (raw[p] - lo) / (range + cam::kNormalizeEps);
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

// The default channels per block: as many as fit kStageFloats of each tensor, or 16 for larger planes.
int64_t default_slice_channels(int64_t channels, int64_t plane) {
  const int64_t staged = std::max<int64_t>(1, kStageFloats / plane);
  return std::min({channels, kMaxSliceChannels, plane <= kStageFloats ? staged : int64_t{16}});
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

GradcamMaps gradcam_maps(const Tensor& activations, const Tensor& gradients, bool counterfactual, bool copy_flags,
                         int64_t slice_channels) {
  const int64_t N = activations.size(0), K = activations.size(1), h = activations.size(2), w = activations.size(3);
  const int64_t plane = h * w;
  GradcamMaps r{device_empty(Shape{N, K}), device_empty(Shape{N, h, w}), device_empty(Shape{N, h, w}),
                device_empty(Shape{N}), {}};
  if (N == 0) return r;
  GCAM_CHECK(K > 0 && plane > 0, "gradcam: empty feature maps ", activations.shape().str());
  const int64_t C = slice_channels > 0 ? std::min(slice_channels, K) : default_slice_channels(K, plane);
  const int64_t S = (K + C - 1) / C;
  const bool staged = C * plane <= kStageFloats;
  const size_t shared = static_cast<size_t>(kSliceThreads + C) * sizeof(double) +
                        (staged ? static_cast<size_t>(2 * C * plane) * sizeof(float) : 0);
  GCAM_CHECK(shared <= 48 * 1024 && S <= 65535 && N <= kArrivalCounters, "gradcam: ", activations.shape().str(),
             " is beyond the fused kernel's grid (", C, " channels per block)");
  DeviceArray<double> parts(N * S * plane);
  int lanes = 1;  // per channel in step 2: the most (≤ 32) that still cover the C channels in one pass
  while (lanes < 32 && 2 * lanes * C <= kSliceThreads) lanes *= 2;
  gradcam_sliced<<<dim3(static_cast<unsigned>(S), static_cast<unsigned>(N)), kSliceThreads, shared, stream()>>>(
      activations.data(), gradients.data(), K, plane, C, staged, lanes, counterfactual ? -1.0f : 1.0f,
      r.alpha.data(), parts.data(), arrival_counters(), r.raw.data(), r.map.data(), r.zero_flags.data());
  GCAM_CHECK_LAUNCH();
  if (copy_flags)
    for (float flag : r.zero_flags.to(Device::CPU).to_vector()) r.all_zero.push_back(flag != 0.0f);
  return r;
}

}  // namespace gcam::cuda
