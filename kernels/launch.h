// launch.h — sizing and indexing shared by gcam's kernels (internal to kernels/).
//
// Elementwise kernels run a grid-stride loop: thread t of the grid handles elements t, t + T, t + 2T, …
// with T the grid's thread count, in 64-bit indices, so any tensor size works with a bounded grid.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cuda_check.h"
#include "gcam/tensor.h"

namespace gcam::cuda {

constexpr int kThreads = 256;

inline unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, int64_t{1} << 16));
}

__device__ inline int64_t first_index() { return blockIdx.x * int64_t{blockDim.x} + threadIdx.x; }
__device__ inline int64_t grid_stride() { return int64_t{blockDim.x} * gridDim.x; }

// The op's output on the device, shaped like `shape`.
inline Tensor device_empty(const Shape& shape) { return Tensor::empty(shape, Device::CUDA); }
inline Tensor device_zeros(const Shape& shape) { return Tensor::zeros(shape, Device::CUDA); }

}  // namespace gcam::cuda

namespace gcam::cuda {

// The sum of v over the block's threads, returned to every thread. blockDim.x ≤ 1024, a multiple of
// 32. Warps reduce by shuffles, then warp 0 reduces the per-warp partials held in shared memory.
template <typename T>
__device__ T block_sum(T v) {
  __shared__ T partial[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const unsigned warps = blockDim.x / 32;
  v = threadIdx.x < warps ? partial[threadIdx.x] : T(0);
  if (warp == 0)
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x == 0) partial[0] = v;
  __syncthreads();
  return partial[0];
}

// The maximum of v over the block's threads, returned to every thread (same rules as block_sum).
__device__ inline float block_max(float v) {
  __shared__ float partial[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const unsigned warps = blockDim.x / 32;
  v = threadIdx.x < warps ? partial[threadIdx.x] : -INFINITY;
  if (warp == 0)
    for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
  if (threadIdx.x == 0) partial[0] = v;
  __syncthreads();
  return partial[0];
}

// The smallest lo and largest hi over the block's threads, returned to every thread as (min, max)
// (same rules as block_sum), both in one pass: shuffles within each warp, then warp 0 reduces the warps'
// pairs, so that the cost does not grow with the warps (32 of them in the clustered Grad-CAM kernel,
// where every thread scanning all 32 pairs would cost about a thousand shared-memory reads).
__device__ inline float2 block_min_max(float lo, float hi) {
  __shared__ float2 partial[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int offset = 16; offset > 0; offset /= 2) {
    lo = fminf(lo, __shfl_xor_sync(0xffffffffu, lo, offset));
    hi = fmaxf(hi, __shfl_xor_sync(0xffffffffu, hi, offset));
  }
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) partial[warp] = make_float2(lo, hi);
  __syncthreads();
  if (warp == 0) {
    const float2 mine = lane < blockDim.x / 32 ? partial[lane] : make_float2(INFINITY, -INFINITY);
    lo = mine.x, hi = mine.y;
    for (int offset = 16; offset > 0; offset /= 2) {
      lo = fminf(lo, __shfl_xor_sync(0xffffffffu, lo, offset));
      hi = fmaxf(hi, __shfl_xor_sync(0xffffffffu, hi, offset));
    }
    if (lane == 0) partial[0] = make_float2(lo, hi);  // (no other lane read partial[0])
  }
  __syncthreads();
  return partial[0];
}

}  // namespace gcam::cuda
