// gradcam.cu — Grad-CAM's reduction fused into one launch (formulas in gcam/cam.h; CPU:
// src/cam/gradcam.cpp), and the backward pass's one-hot seed.
//
// The reduction reads A and ∂y/∂A (N, K, h, w) once each; its speed is the memory bandwidth it keeps
// busy. One block per image would leave most of the GPU idle at small batches (16 images: 16 SMs of
// 132) and spend its time waiting on load latency, so each image's K channels are cut between blocks,
// and the blocks' parts of the weighted sum must meet: the block that arrives last for image n
// (arrived_last, below) adds the parts in block order: L_p = ReLU(Σ_b part_b[p]), then
// (L − min)/(max − min + ε), or all zeros (flagged) when max = min = 0. Two kernels cut the channels:
//
// The streamed kernel (planes of at most 224 pixels: every target layer of ResNet-50 and VGG-16) keeps
// each channel group in registers, warp by warp (gradcam_streamed, below). The sliced kernel (any
// shape) stages a block's channels in shared memory, then sums them in a few lanes per channel:
//   1. stage   the slice's C·h·w values of ∂y/∂A and of A into shared memory, each thread's loads all
//              in flight at once (when they fit; larger planes are read from global memory by the same code)
//   2. α_k   = (1/hw) Σ_p ∂y/∂A[n,k,p]             a few lanes per channel, summed in double
//   3. part_s[p] = Σ_{k in slice s} α_k A[n,k,p]      a slice's share of the weighted sum, into global
//              scratch (double)
//   4. the hand-off above.
// H200, inputs from device memory, µs, one run (bench_cuda's cuda_fused_reduction rows at each
// kernel's default cut; the floor, the inputs read once at the device copy's bandwidth: 3.1 at batch
// 16, 12.4 at 64):
//
//   layer, batch               streamed   sliced   (a third kernel, since removed: a thread-block
//   resnet50 layer4, 1             5.5      7.1     cluster per image handing parts over through
//   resnet50 layer4, 16            9.1     12.1     distributed shared memory, staged by cp.async:
//   resnet50 layer4, 64           18.5     29.6     6.6, 11.1, 25.8 on resnet50; 6.7, 11.4, 26.3 on
//   vgg16 features.29, 1           6.3     11.4     vgg16, in an earlier run)
//   vgg16 features.29, 16          9.6     16.3
//   vgg16 features.29, 64         18.2     35.3
//
// At batch 16 the streamed kernel is a chain of latencies more than a stream of bytes. Cut short after
// each phase (bench/experiments/reduction_phases.cu, resnet50 layer4, 128 channels per block), µs: an
// empty kernel on the same grid 0.9; loading and reducing each block's channels and writing its part
// 6.1 (a device copy of the same bytes, read and written, takes 4.0); the fence and the arrival count
// 7.2; the last block's sum and normalisation 8.0. A cluster of the image's 16 blocks handing the parts
// over through distributed shared memory instead took 7.6 (and 21.1 at batch 64, against 19.0).
//
// A third kernel, gradcam_clustered.cu, is the streamed one with the hand-off done inside a thread-block
// cluster (Reduction::Clustered; written to close the batch-16 gap above, not yet timed), and with its
// blocks' slices brought into shared memory by bulk copies (Reduction::ClusteredBulk; not yet timed).
//
// Every sum runs in a fixed order, so a run gives the same bits each time (the kernels add in
// different orders, so they agree to rounding, not to the bit).
#include "../src/cuda/cam.h"
#include "gcam/cam.h"
#include "gradcam_clustered.h"
#include "gradcam_pass.h"
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
  // 32-bit indices: a block's thread count and a plane's pixels per pass (64-bit division is a long
  // instruction sequence on the GPU).
  const int t = threadIdx.x, P = plane < blockDim.x ? static_cast<int>(plane) : blockDim.x, G = blockDim.x / P,
            g = t / P;
  for (int64_t base = 0; base < plane; base += P) {
    const int64_t p = base + t % P;
    double s = 0.0;
    if (g < G && p < plane) {
#pragma unroll 8  // the loads of several items in flight (the sum's order stays the same)
      for (int64_t i = g; i < items; i += G) s += term(i, p);
    }
    group_sums[t] = s;
    __syncthreads();
    if (t < P && p < plane) {
      double total = 0.0;
      for (int j = 0; j < G; ++j) total += group_sums[j * P + t];
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
  const float2 extremes = block_min_max(lo, hi);
  lo = extremes.x, hi = extremes.y;
  const bool zero = hi == 0.0f && lo == 0.0f;
  if (threadIdx.x == 0) *zero_flag = zero ? 1.0f : 0.0f;
  const float range = hi - lo;
  for (int64_t p = threadIdx.x; p < plane; p += blockDim.x)
    map[p] = zero ? 0.0f : (raw[p] - lo) / (range + cam::kNormalizeEps);
}

// The hand-off between the blocks of image n, called by every thread of each block once its part is
// written to global memory: true in the block that arrives last (the arrival counter of the CUDA
// programming guide's threadfence reduction; the engine's counters, which the last block sets back to
// zero, so no memset precedes the launch). One thread fences for the whole block after a barrier, as
// a grid-wide barrier does: the barrier orders the block's writes before the fence, the fence before
// the count; in the last block the second fence orders the count before the reads of the other parts.
__device__ bool arrived_last(unsigned* arrivals, int64_t n, int64_t blocks) {
  __shared__ bool last;
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    last = atomicAdd(arrivals + n, 1u) == static_cast<unsigned>(blocks - 1);
    if (last) arrivals[n] = 0;  // zero again for the next launch (runtime.h: arrival_counters)
    __threadfence();
  }
  __syncthreads();
  return last;
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
  if (!arrived_last(arrivals, n, S)) return;
  const double* image_parts = parts + n * S * plane;
  float* raw = raw_out + n * plane;
  sum_over_groups(
      plane, S, group_sums, [&](int64_t j, int64_t p) { return __ldcg(image_parts + j * plane + p); },
      [&](int64_t p, double total) { raw[p] = total > 0.0 ? static_cast<float>(total) : 0.0f; });  // ReLU
  __syncthreads();
  normalize_image(raw, plane, map_out + n * plane, zero_out + n);
}

// The streamed kernel (any GPU; planes of at most 32·kMaxRuns pixels): no staging. B blocks per
// image, block b holding channels [b·C, (b+1)·C), its warps streaming them through registers
// (gradcam_pass.h, steps 1–4: U = 8 channels per warp in flight for planes of up to 64 pixels, 4 above),
// the block's part into global scratch (double); then
//   5. the last block of image n to arrive (arrived_last) adds the B parts in block order, thread p
//      holding pixel p (h·w ≤ blockDim): L_p = ReLU(Σ_b part_b[p]), then the min-max normalisation
//      with both extremes from one block reduction.
// Each thread's work is a few dozen independent instructions per channel group, where the sliced
// kernel above waits for its whole stage and then walks long dependent chains in few threads.
constexpr int kStreamThreads = 256;
constexpr int kStreamWarps = kStreamThreads / 32;

template <int R>
__global__ void __launch_bounds__(kStreamThreads)
    gradcam_streamed(const float* __restrict__ A, const float* __restrict__ dA, int K, int plane, int C, float sign,
                     float* alpha_out, double* parts, unsigned* arrivals, float* raw_out, float* map_out,
                     float* zero_out) {
  __shared__ double warp_parts[kStreamWarps][32 * R];
  __shared__ double group_sums[kStreamThreads];
  const int b = blockIdx.x, B = gridDim.x;
  const int64_t n = blockIdx.y;

  // 1–4. the block's part
  const double mine = block_share<R>(A, dA, K, plane, C, b, n, kStreamWarps, sign, alpha_out, warp_parts);
  double* part = parts + (n * B + b) * plane;
  if (threadIdx.x < plane) part[threadIdx.x] = mine;

  // 5. the last block of image n to arrive finishes its map
  if (!arrived_last(arrivals, n, B)) return;
  const double* image_parts = parts + n * B * plane;
  __shared__ float relu_map[32 * R];
  sum_over_groups(  // (ends with a barrier)
      plane, B, group_sums, [&](int64_t j, int64_t p) { return __ldcg(image_parts + j * plane + p); },
      [&](int64_t p, double total) {
        raw_out[n * plane + p] = relu_map[p] = total > 0.0 ? static_cast<float>(total) : 0.0f;  // ReLU
      });
  const bool holds = threadIdx.x < plane;  // L_p of pixel p = threadIdx.x
  normalize_held(holds ? relu_map[threadIdx.x] : 0.0f, holds, map_out + n * plane, zero_out + n);
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

// Threads per channel for α (channel_weights): the most (≤ 32) that still cover C channels in one pass.
int lanes_for(int64_t C, int threads) {
  int lanes = 1;
  while (lanes < 32 && 2 * lanes * C <= threads) lanes *= 2;
  return lanes;
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

// The streamed kernel's cut: two groups of U channels per warp (C = 2·W·U: 128 channels per block on
// ResNet-50's layer4, 64 on VGG-16's features.29), and twice that where the batch would still fill
// every SM with more than kStreamBlocksPerSm blocks. Measured on an H200 against cuts of 32, 64, 128 and
// 256 channels at batch 1, 16 and 64 on both layers: the fastest or tied with it in five of the six,
// 8% behind at ResNet-50 batch 1 (bench_cuda's cuda_fused_reduction rows). channels_per_block > 0
// forces C.
constexpr int kStreamBlocksPerSm = 2;

int64_t streamed_channels_per_block(int64_t N, int64_t K, int runs, int64_t channels_per_block) {
  if (channels_per_block > 0) return std::min(channels_per_block, K);
  static const int64_t sms = [] {
    int device = 0, count = 0;
    GCAM_CUDA_CHECK(cudaGetDevice(&device));
    GCAM_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
    return int64_t{count};
  }();
  const int64_t C = 2 * int64_t{kStreamWarps} * stream_unroll(runs), blocks = N * ((K + C - 1) / C);
  return std::min(K, blocks > kStreamBlocksPerSm * sms ? 2 * C : C);
}

bool streamed_fits(int64_t K, int64_t plane) {
  return plane <= 32 * kMaxRuns && K * plane <= int64_t{1} << 30;  // int indices within an image
}

template <int R>
void launch_streamed_runs(const Tensor& A, const Tensor& dA, float sign, int64_t C, GradcamMaps& r) {
  const int64_t N = A.size(0), K = A.size(1), plane = A.size(2) * A.size(3), B = (K + C - 1) / C;
  GCAM_CHECK(N <= kArrivalCounters && B <= 65535, "gradcam: ", A.shape().str(), " is beyond the fused kernel's grid");
  DeviceArray<double> parts(N * B * plane);
  gradcam_streamed<R><<<dim3(static_cast<unsigned>(B), static_cast<unsigned>(N)), kStreamThreads, 0, stream()>>>(
      A.data(), dA.data(), static_cast<int>(K), static_cast<int>(plane), static_cast<int>(C), sign, r.alpha.data(),
      parts.data(), arrival_counters(), r.raw.data(), r.map.data(), r.zero_flags.data());
  GCAM_CHECK_LAUNCH();
}

void launch_streamed(const Tensor& A, const Tensor& dA, bool counterfactual, int64_t channels_per_block,
                     GradcamMaps& r) {
  const int64_t N = A.size(0), K = A.size(1), runs = (A.size(2) * A.size(3) + 31) / 32;
  const int64_t C = streamed_channels_per_block(N, K, static_cast<int>(std::min<int64_t>(runs, kMaxRuns)),
                                                channels_per_block);
  const float sign = counterfactual ? -1.0f : 1.0f;
  with_runs(runs, [&](auto R) { launch_streamed_runs<decltype(R)::value>(A, dA, sign, C, r); });
}

}  // namespace

namespace {

// The kernel for activations of this shape, and the clustered kernel's cut when it is that one: the one
// decision behind gradcam_reduction_for, resident_clusters and gradcam_maps.
struct Choice {
  Reduction kernel;
  std::optional<ClusterCut> cut;
};

Choice choose(const Shape& activations, ReductionOptions how) {
  GCAM_CHECK(activations.ndim() == 4, "gradcam: activations must be (N, K, h, w), got ", activations.str());
  const int64_t K = activations[1], plane = activations[2] * activations[3];
  const Reduction streamed_or_sliced = streamed_fits(K, plane) ? Reduction::Streamed : Reduction::Sliced;
  switch (how.kernel) {
    case Reduction::Auto:
    case Reduction::Streamed: return {streamed_or_sliced, std::nullopt};
    case Reduction::Sliced: return {Reduction::Sliced, std::nullopt};
    case Reduction::ClusteredBulk:
      if (std::optional<ClusterCut> cut = clustered_cut(K, plane, how.channels_per_block, true))
        return {Reduction::ClusteredBulk, cut};
      [[fallthrough]];
    case Reduction::Clustered:
      if (std::optional<ClusterCut> cut = clustered_cut(K, plane, how.channels_per_block, false))
        return {Reduction::Clustered, cut};
      return {streamed_or_sliced, std::nullopt};
  }
  return {Reduction::Sliced, std::nullopt};
}

}  // namespace

Reduction gradcam_reduction_for(const Shape& activations, ReductionOptions how) {
  return choose(activations, how).kernel;
}

int64_t resident_clusters(const Shape& activations, ReductionOptions how) {
  const Choice c = choose(activations, how);
  return c.cut ? c.cut->resident : 0;
}

GradcamMaps gradcam_maps(const Tensor& activations, const Tensor& gradients, bool counterfactual, bool copy_flags,
                         ReductionOptions how) {
  const int64_t N = activations.size(0), K = activations.size(1), h = activations.size(2), w = activations.size(3);
  GradcamMaps r{device_empty(Shape{N, K}), device_empty(Shape{N, h, w}), device_empty(Shape{N, h, w}),
                device_empty(Shape{N}), {}};
  if (N == 0) return r;
  GCAM_CHECK(K > 0 && h * w > 0, "gradcam: empty feature maps ", activations.shape().str());
  const Choice c = choose(activations.shape(), how);
  switch (c.kernel) {
    case Reduction::Clustered:
    case Reduction::ClusteredBulk: launch_clustered(activations, gradients, counterfactual, *c.cut, r); break;
    case Reduction::Streamed: launch_streamed(activations, gradients, counterfactual, how.channels_per_block, r); break;
    default: launch_sliced(activations, gradients, counterfactual, how.channels_per_block, r);
  }
  if (copy_flags)
    for (float flag : r.zero_flags.to(Device::CPU).to_vector()) r.all_zero.push_back(flag != 0.0f);
  return r;
}

}  // namespace gcam::cuda
