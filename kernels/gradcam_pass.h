// gradcam_pass.h — the steps that the streamed and the clustered Grad-CAM reductions share (internal to
// kernels/; their designs are in gradcam.cu and gradcam_clustered.cu). A block holds channels
// [k0, k0 + c_here) of image n; warp w of its W warps takes channels w, w + W, w + 2W, … of them, U at a
// time, and lane l holds pixels p = l + 32j (j < R, 32·R ≥ h·w):
//   weigh_channels   1. load the lane's R values of ∂y/∂A and of A for U channels into registers: 2·U·R
//                       loads in flight per lane before any arithmetic waits on them
//                    2. α_k = (1/hw) Σ_p ∂y/∂A[n,k,p]: the lane's R values, then the U channels' sums over
//                       the 32 lanes at once (warp_sums.h), in float
//                    3. acc_j += sign·α_k A[n,k,l+32j] in the lane's registers (double): the warp's share
//   block_part       4. the W warps' shares added in warp order: thread p's value of the block's part
//   slice_share      steps 1–4 for one block's channels, wherever they are (global or shared memory)
//   block_share      steps 1–4 for one block of one image, from global memory
//   normalize_held   the last step of an image, thread p holding ReLU'd pixel p: (L − min)/(max − min + ε),
//                    or all zeros (flagged) when max = min = 0, both extremes from one block reduction.
#pragma once

#include <type_traits>

#include "gcam/cam.h"
#include "launch.h"
#include "warp_sums.h"

namespace gcam::cuda {

// R, the pixels a lane holds, at most: planes of up to 224 pixels (VGG-16's 14×14 = 196).
constexpr int kMaxRuns = 7;

// U: the channels a warp has in flight at once, for R pixels per lane (8 for planes of up to 64
// pixels, 4 above: more would spill registers).
__host__ __device__ constexpr int stream_unroll(int R) { return R <= 2 ? 8 : 4; }

// Steps 1–3 for the block's channels at grad and act (each c_here planes of `plane` floats); α of each
// channel goes to alpha_out[c] (unsigned), acc gathers the warp's share of Σ_k sign·α_k A_k.
template <int R>
__device__ void weigh_channels(const float* __restrict__ grad, const float* __restrict__ act, int c_here, int plane,
                               int warps, float sign, float* alpha_out, double (&acc)[R]) {
  constexpr int U = stream_unroll(R);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int c0 = warp; c0 < c_here; c0 += U * warps) {
    // 1. load
    float g[U][R], a[U][R];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int c = c0 + u * warps;
#pragma unroll
      for (int j = 0; j < R; ++j) {
        const int p = lane + 32 * j;
        const bool inside = c < c_here && p < plane;
        g[u][j] = inside ? grad[c * plane + p] : 0.0f;
        a[u][j] = inside ? act[c * plane + p] : 0.0f;
      }
    }
    // 2. α for the U channels at once: lane l ends with channel u_l = l / (32/U)'s sum
    float sums[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      sums[u] = 0.0f;
#pragma unroll
      for (int j = 0; j < R; ++j) sums[u] += g[u][j];
    }
    const float alpha = warp_sums<U>(sums) / static_cast<float>(plane);
    const int c_alpha = c0 + (lane / (32 / U)) * warps;
    if (lane % (32 / U) == 0 && c_alpha < c_here) alpha_out[c_alpha] = alpha;
    // 3. (a channel past c_here has loaded zeros: adds nothing)
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const double weight = sign * __shfl_sync(0xffffffffu, alpha, lane_of_sum<U>(u));
#pragma unroll
      for (int j = 0; j < R; ++j) acc[j] += weight * a[u][j];
    }
  }
}

// Step 4: every warp writes its share into warp_parts (shared, [warps][32·R]); after a barrier, returns
// to thread p < plane the sum of the warps' shares of pixel p in warp order, 0 to the others.
template <int R>
__device__ double block_part(double (*warp_parts)[32 * R], const double (&acc)[R], int warps, int plane) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int j = 0; j < R; ++j) warp_parts[warp][lane + 32 * j] = acc[j];
  __syncthreads();
  double s = 0.0;
  if (static_cast<int>(threadIdx.x) < plane)
    for (int w = 0; w < warps; ++w) s += warp_parts[w][threadIdx.x];
  return s;
}

// Steps 1–4 for one block's slice of c_here channels, grad and act (each c_here planes of `plane` floats,
// in global memory or already in the block's shared memory): returns to thread p < plane pixel p of the
// slice's part of Σ_k sign·α_k A_k (0 to the others); α of the slice's channels into alpha_out. Every
// thread of the block calls it (block_part's barrier).
template <int R>
__device__ double slice_share(const float* __restrict__ grad, const float* __restrict__ act, int c_here, int plane,
                              int warps, float sign, float* alpha_out, double (*warp_parts)[32 * R]) {
  double acc[R];
#pragma unroll
  for (int j = 0; j < R; ++j) acc[j] = 0.0;
  weigh_channels<R>(grad, act, c_here, plane, warps, sign, alpha_out, acc);
  return block_part<R>(warp_parts, acc, warps, plane);
}

// Block b of image n holds channels [b·C, b·C + c_here) of the K, c_here = min(C, K − b·C): where its
// slices of ∂y/∂A and A begin (n·K + b·C)·plane floats into them, and how many channels it has.
struct BlockSlice {
  int64_t first;
  int c_here;
};
__device__ inline BlockSlice block_slice(int K, int plane, int C, int b, int64_t n) {
  return {(n * K + b * C) * plane, min(C, K - b * C)};
}

// slice_share for block b of image n, reading its slices from global memory; α into alpha_out (N, K).
template <int R>
__device__ double block_share(const float* __restrict__ A, const float* __restrict__ dA, int K, int plane, int C,
                              int b, int64_t n, int warps, float sign, float* alpha_out,
                              double (*warp_parts)[32 * R]) {
  const BlockSlice s = block_slice(K, plane, C, b, n);
  return slice_share<R>(dA + s.first, A + s.first, s.c_here, plane, warps, sign, alpha_out + n * K + b * C,
                        warp_parts);
}

// Calls f(std::integral_constant<int, R>()) for R = runs ≤ kMaxRuns (the kernels take no more): the
// lane's pixels as a compile-time count, so that they stay in registers.
template <typename F>
void with_runs(int64_t runs, F f) {
  switch (runs) {
    case 1: return f(std::integral_constant<int, 1>());
    case 2: return f(std::integral_constant<int, 2>());
    case 3: return f(std::integral_constant<int, 3>());
    case 4: return f(std::integral_constant<int, 4>());
    case 5: return f(std::integral_constant<int, 5>());
    case 6: return f(std::integral_constant<int, 6>());
    default: return f(std::integral_constant<int, kMaxRuns>());
  }
}

// Calls f(std::integral_constant<int, R>()) for every R = 1 … kMaxRuns.
template <typename F>
void with_each_runs(F f) {
  for (int runs = 1; runs <= kMaxRuns; ++runs) with_runs(runs, f);
}

// The image's normalised map from its ReLU'd raw map, thread p holding pixel p (holds: p < h·w; every
// thread of the block calls it): map[p] and the image's all-zero flag.
__device__ inline void normalize_held(float mine, bool holds, float* map, float* zero_flag) {
  const float2 range = block_min_max(holds ? mine : INFINITY, holds ? mine : -INFINITY);
  const bool zero = range.x == 0.0f && range.y == 0.0f;
  if (threadIdx.x == 0) *zero_flag = zero ? 1.0f : 0.0f;
  if (holds) map[threadIdx.x] = zero ? 0.0f : (mine - range.x) / (range.y - range.x + cam::kNormalizeEps);
}

}  // namespace gcam::cuda
