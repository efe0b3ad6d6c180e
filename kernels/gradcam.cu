// gradcam.cu — Grad-CAM's reduction fused into one launch (formulas in gcam/cam.h; CPU:
// src/cam/gradcam.cpp), and the backward pass's one-hot seed.
//
// The reduction reads A and ∂y/∂A (N, K, h, w) once each; its speed is the memory bandwidth it keeps
// busy. One block per image would leave most of the GPU idle at small batches (16 images: 16 SMs of
// 132) and spend its time waiting on load latency, so each image's K channels are cut between blocks,
// and the blocks' parts of the weighted sum must meet. Two kernels do that:
//
// The sliced kernel (any GPU, any shape): S slices of C channels, one block per (slice s, image n):
//   1. stage   the slice's C·h·w values of ∂y/∂A and of A into shared memory, each thread's loads all
//              in flight at once (when they fit; larger planes are read from global memory by the same code)
//   2. α_k   = (1/hw) Σ_p ∂y/∂A[n,k,p]             a few lanes per channel, summed in double
//   3. part_s[p] = Σ_{k in slice s} α_k A[n,k,p]      a slice's share of the weighted sum, into global
//              scratch (double)
//   4. the slice block that finishes last for image n (an arrival counter, the threadfence-reduction
//      pattern of the CUDA programming guide; the engine's counters, which the last block sets back to
//      zero, so no memset precedes the launch) adds the S parts in slice order:
//      L_p = ReLU(Σ_s part_s[p]), then (L − min)/(max − min + ε), or all zeros (flagged) when max = min = 0.
// Its cost at small batches is that chain's latency (fence, atomic, the last block reading the parts
// back from L2). H200, resnet50's layer4, inputs from device memory: 7.7 µs for 1 image, 12.5 for 16,
// 28.1 for 64, against a floor of 3.1 µs at 16 and 12.4 at 64 (bench_cuda's cuda_fused_reduction rows).
//
// The clustered kernel (sm_90+, where K splits into 8 equal blocks that fit a shared-memory stage):
// a thread-block cluster per image, whose blocks hand their parts over through distributed shared
// memory after one cluster barrier (gradcam_clustered, below). Measured against the sliced kernel in
// the same H200 run: vgg16's features.29 12.8 against 16.5 µs at batch 16, 29.4 against 32.8 at 64;
// resnet50's layer4 no faster (12.4 against 12.3, 28.6 against 27.8). Both spend 7.5–7.8 µs on
// resnet50's layer4 at batch 1, where the inputs sit in L2 and the hand-off is all that differs, so
// the time goes elsewhere; where is not yet measured.
//
// Every sum runs in a fixed order, so a run gives the same bits each time (the two kernels add in
// different orders, so they agree to rounding, not to the bit).
#include "../src/cuda/cam.h"
#include "gcam/cam.h"
#include "launch.h"

#include <cooperative_groups.h>
#include <cuda_pipeline.h>

namespace gcam::cuda {

namespace {

constexpr int kCamThreads = 512;           // the seed kernel's block
constexpr int kSliceThreads = 256;         // the reduction's block
constexpr int kStageLoads = 16;            // per thread and tensor, all in flight at once
constexpr int64_t kStageFloats = kStageLoads * kSliceThreads;  // per tensor: 2 × 16 KB of shared memory
constexpr int64_t kMaxSliceChannels = 1024;
constexpr int kClusterBlocks = 8;          // blocks per image in the clustered kernel (the portable maximum)
constexpr int kClusterThreads = 512;
constexpr int64_t kClusterStageFloats = 12544;  // per tensor and block: 2 × 49 KB (resnet50 layer4, vgg16 features.29)

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

// α_k = (1/hw) Σ_p ∂y/∂A[k,p] for the `channels` planes at grad, signed by the counterfactual into
// alpha (shared) and unsigned into alpha_out: `lanes` threads per channel (a power of two ≤ 32, chosen
// so that one pass covers the channels where it can), each summing every lanes-th pixel in double,
// then a shuffle tree across those lanes. Every thread makes the same number of passes, so all lanes
// of a warp reach each shuffle. Ends with a barrier.
__device__ void channel_weights(const float* grad, int64_t channels, int64_t plane, int lanes, float sign,
                                double* alpha, float* alpha_out) {
  const int64_t t = threadIdx.x, per_pass = blockDim.x / lanes;
  for (int64_t c0 = 0; c0 < channels; c0 += per_pass) {
    const int64_t c = c0 + t / lanes;
    double sum = 0.0;
    if (c < channels) {
#pragma unroll 4
      for (int64_t p = t % lanes; p < plane; p += lanes) sum += grad[c * plane + p];
    }
    for (int offset = lanes / 2; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset, lanes);
    if (c < channels && t % lanes == 0) {
      const double a = sum / static_cast<double>(plane);
      alpha[c] = sign * a;
      alpha_out[c] = static_cast<float>(a);
    }
  }
  __syncthreads();
}

// The last step of an image, by one whole block, from its raw map (already ReLU'd, written by this
// block): (L − min)/(max − min + ε), or all zeros (flagged) when max = min = 0.
__device__ void normalize_image(const float* raw, int64_t plane, float* map, float* zero_flag) {
  float lo = INFINITY, hi = -INFINITY;
  for (int64_t p = threadIdx.x; p < plane; p += blockDim.x) lo = fminf(lo, raw[p]), hi = fmaxf(hi, raw[p]);
  hi = block_max(hi);
  lo = -block_max(-lo);
  const bool zero = hi == 0.0f && lo == 0.0f;
  if (threadIdx.x == 0) *zero_flag = zero ? 1.0f : 0.0f;
  const float range = hi - lo;
  for (int64_t p = threadIdx.x; p < plane; p += blockDim.x)
    map[p] = zero ? 0.0f : (raw[p] - lo) / (range + cam::kNormalizeEps);
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

  // 2. α_k for the slice's channels
  channel_weights(grad, c_here, plane, lanes, sign, alpha, alpha_out + n * K + k0);

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
  __syncthreads();
  normalize_image(raw, plane, map_out + n * plane, zero_out + n);
}

// The clustered kernel (sm_90 and later): one thread-block cluster of kClusterBlocks blocks per image,
// block r of image n holding channels [r·C, (r+1)·C), C = K / kClusterBlocks.
//   1. stage   all of the block's ∂y/∂A and A (2·C·h·w floats, one contiguous run each) into shared
//              memory by asynchronous 16-byte copies: no registers in between, every copy in flight at once
//   2. α_k     as in the sliced kernel
//   3. part_r[p] = Σ_{k in block r} α_k A[n,k,p], in the block's own shared memory (double)
//   4. a cluster barrier; then block 0 reads the parts of blocks 0 … 7 through distributed shared
//      memory, in rank order: L_p = ReLU(Σ_r part_r[p]), and normalises the map; a second barrier
//      keeps the other blocks' shared memory alive until block 0 has read it.
// No global scratch, no atomics, no fences: the barrier is the whole hand-off, which is what the
// sliced kernel's arrival chain costs at small batches.
__global__ void __launch_bounds__(kClusterThreads)
    gradcam_clustered(const float* A, const float* dA, int64_t K, int64_t plane, int lanes, float sign,
                      float* alpha_out, float* raw_out, float* map_out, float* zero_out) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  namespace cg = cooperative_groups;
  extern __shared__ __align__(16) unsigned char stage_bytes[];
  cg::cluster_group cluster = cg::this_cluster();
  const int64_t r = cluster.block_rank(), n = blockIdx.x / kClusterBlocks;
  const int64_t C = K / kClusterBlocks, k0 = r * C, count = C * plane;  // count: a multiple of 4
  float* grad = reinterpret_cast<float*>(stage_bytes);  // [count] ∂y/∂A, [count] A, then doubles:
  float* act = grad + count;
  double* group_sums = reinterpret_cast<double*>(act + count);  // [blockDim]
  double* alpha = group_sums + blockDim.x;                        // [C]
  double* part = alpha + C;                                       // [plane]

  // 1. stage
  const float* grad_src = dA + (n * K + k0) * plane;
  const float* act_src = A + (n * K + k0) * plane;
  for (int64_t i = 4 * int64_t{threadIdx.x}; i < count; i += 4 * int64_t{blockDim.x}) {
    __pipeline_memcpy_async(grad + i, grad_src + i, 16);
    __pipeline_memcpy_async(act + i, act_src + i, 16);
  }
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();

  // 2, 3.
  channel_weights(grad, C, plane, lanes, sign, alpha, alpha_out + n * K + k0);
  sum_over_groups(
      plane, C, group_sums, [&](int64_t c, int64_t p) { return alpha[c] * act[c * plane + p]; },
      [&](int64_t p, double total) { part[p] = total; });

  // 4.
  cluster.sync();
  if (r == 0) {
    float* raw = raw_out + n * plane;
    for (int64_t p = threadIdx.x; p < plane; p += blockDim.x) {
      double total = 0.0;
      for (int q = 0; q < kClusterBlocks; ++q) total += cluster.map_shared_rank(part, q)[p];
      raw[p] = total > 0.0 ? static_cast<float>(total) : 0.0f;  // ReLU
    }
    __syncthreads();
    normalize_image(raw, plane, map_out + n * plane, zero_out + n);
  }
  cluster.sync();
#else
  __trap();  // launched only on sm_90 and later (clustered_fits)
#endif
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

namespace {

// Whether the clustered kernel takes the shape: channels that split evenly into kClusterBlocks blocks,
// each block's run of floats a whole number of 16-byte copies and within its stage, on a GPU with
// thread-block clusters (compute capability 9.0 or later) running code built for one (a build for
// sm_80 alone reaches a Hopper GPU as sm_80 PTX, whose kernel body is only the trap).
bool clustered_fits(int64_t K, int64_t plane) {
  static const bool clusters = [] {
    int device = 0, major = 0;
    GCAM_CUDA_CHECK(cudaGetDevice(&device));
    GCAM_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
    cudaFuncAttributes built{};
    GCAM_CUDA_CHECK(cudaFuncGetAttributes(&built, gradcam_clustered));
    return major >= 9 && built.ptxVersion >= 90;
  }();
  const int64_t C = K / kClusterBlocks;
  return clusters && K % kClusterBlocks == 0 && (C * plane) % 4 == 0 && C * plane <= kClusterStageFloats;
}

// Threads per channel for α (channel_weights): the most (≤ 32) that still cover C channels in one pass.
int lanes_for(int64_t C, int threads) {
  int lanes = 1;
  while (lanes < 32 && 2 * lanes * C <= threads) lanes *= 2;
  return lanes;
}

void launch_clustered(const Tensor& A, const Tensor& dA, bool counterfactual, GradcamMaps& r) {
  const int64_t N = A.size(0), K = A.size(1), plane = A.size(2) * A.size(3), C = K / kClusterBlocks;
  const size_t shared = static_cast<size_t>(2 * C * plane) * sizeof(float) +
                        static_cast<size_t>(kClusterThreads + C + plane) * sizeof(double);
  static const bool opted_in = [] {  // shared memory beyond the default 48 KB, up to the largest stage
    // (C·plane ≤ kClusterStageFloats with C, plane ≥ 1, so C + plane ≤ kClusterStageFloats + 1: 205 KB)
    const size_t most =
        2 * kClusterStageFloats * sizeof(float) + (kClusterThreads + kClusterStageFloats + 1) * sizeof(double);
    GCAM_CUDA_CHECK(cudaFuncSetAttribute(gradcam_clustered, cudaFuncAttributeMaxDynamicSharedMemorySize, int(most)));
    return true;
  }();
  (void)opted_in;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(static_cast<unsigned>(N * kClusterBlocks));
  config.blockDim = dim3(kClusterThreads);
  config.dynamicSmemBytes = shared;
  config.stream = stream();
  cudaLaunchAttribute cluster_shape[1];
  cluster_shape[0].id = cudaLaunchAttributeClusterDimension;
  cluster_shape[0].val.clusterDim.x = kClusterBlocks;
  cluster_shape[0].val.clusterDim.y = 1;
  cluster_shape[0].val.clusterDim.z = 1;
  config.attrs = cluster_shape;
  config.numAttrs = 1;
  GCAM_CUDA_CHECK(cudaLaunchKernelEx(&config, gradcam_clustered, A.data(), dA.data(), K, plane,
                                     lanes_for(C, kClusterThreads), counterfactual ? -1.0f : 1.0f, r.alpha.data(),
                                     r.raw.data(), r.map.data(), r.zero_flags.data()));
  GCAM_CHECK_LAUNCH();
}

void launch_sliced(const Tensor& A, const Tensor& dA, bool counterfactual, int64_t slice_channels, GradcamMaps& r) {
  const int64_t N = A.size(0), K = A.size(1), plane = A.size(2) * A.size(3);
  const int64_t C = slice_channels > 0 ? std::min(slice_channels, K) : default_slice_channels(K, plane);
  const int64_t S = (K + C - 1) / C;
  const bool staged = C * plane <= kStageFloats;
  const size_t shared = static_cast<size_t>(kSliceThreads + C) * sizeof(double) +
                        (staged ? static_cast<size_t>(2 * C * plane) * sizeof(float) : 0);
  GCAM_CHECK(shared <= 48 * 1024 && S <= 65535 && N <= kArrivalCounters, "gradcam: ", A.shape().str(),
             " is beyond the fused kernel's grid (", C, " channels per block)");
  DeviceArray<double> parts(N * S * plane);
  gradcam_sliced<<<dim3(static_cast<unsigned>(S), static_cast<unsigned>(N)), kSliceThreads, shared, stream()>>>(
      A.data(), dA.data(), K, plane, C, staged, lanes_for(C, kSliceThreads), counterfactual ? -1.0f : 1.0f,
      r.alpha.data(), parts.data(), arrival_counters(), r.raw.data(), r.map.data(), r.zero_flags.data());
  GCAM_CHECK_LAUNCH();
}

}  // namespace

bool gradcam_maps_clustered(const Shape& activations, int64_t slice_channels) {
  return slice_channels == 0 && activations.ndim() == 4 &&
         clustered_fits(activations[1], activations[2] * activations[3]);
}

GradcamMaps gradcam_maps(const Tensor& activations, const Tensor& gradients, bool counterfactual, bool copy_flags,
                         int64_t slice_channels) {
  const int64_t N = activations.size(0), K = activations.size(1), h = activations.size(2), w = activations.size(3);
  GradcamMaps r{device_empty(Shape{N, K}), device_empty(Shape{N, h, w}), device_empty(Shape{N, h, w}),
                device_empty(Shape{N}), {}};
  if (N == 0) return r;
  GCAM_CHECK(K > 0 && h * w > 0, "gradcam: empty feature maps ", activations.shape().str());
  const auto on_16_bytes = [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data()) % 16 == 0; };
  if (gradcam_maps_clustered(activations.shape(), slice_channels) && on_16_bytes(activations) &&
      on_16_bytes(gradients))  // the engine's allocations are; a view at an odd offset may not be
    launch_clustered(activations, gradients, counterfactual, r);
  else
    launch_sliced(activations, gradients, counterfactual, slice_channels, r);
  if (copy_flags)
    for (float flag : r.zero_flags.to(Device::CPU).to_vector()) r.all_zero.push_back(flag != 0.0f);
  return r;
}

}  // namespace gcam::cuda
