// reduction_phases.cu — where the fused Grad-CAM reduction's time goes (an experiment, not part of
// the build): the streamed kernel of kernels/gradcam.cu cut short after each phase, timed as
// bench_cuda times it (20 launches in one CUDA graph over inputs rotated through 256 MB, GPU events
// around a replay, the median of 50 replays over 20). ResNet-50's layer4 (K = 2048, 7×7), batch 1, 16, 64.
//
//   nvcc -O3 -std=c++17 -arch=sm_90 bench/experiments/reduction_phases.cu -o /tmp/reduction_phases
//
// The α butterflies are kernels/warp_sums.h's. Modes: 0 an empty kernel on the same grid; 1 loads, α and the warps' sums, each block's part
// written; 2 and the arrival hand-off (fence, atomic); 3 and the last block's sum of the parts;
// 4 the whole kernel (and the normalisation); 5 the whole kernel with a cluster of the image's blocks
// handing the parts over through distributed shared memory instead of global memory and a counter.
// Then the whole kernel with 16 or 4 channels per warp in flight instead of 8, and with 512 threads.
// Mode 6 (added in the twelfth session, not yet run): the whole kernel with the block's A loaded into
// registers first, then cudaGridDependencySynchronize() before ∂y/∂A, the scratch and the counters, and
// cudaTriggerProgrammaticLaunchCompletion() once the loads are done. Launched plainly it only reorders
// the loads. Launched with programmatic dependent launch (PDL), the next launch's blocks may start and
// read their A while this launch hands its parts over. A is the forward pass's activation, written long
// before the reduction runs, so reading it early is safe in explain too. With PDL the time per launch
// is a throughput in a stream of back-to-back reductions, not one reduction's latency.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "../../kernels/warp_sums.h"

namespace cg = cooperative_groups;

#define CHECK(x)                                                                 \
  do {                                                                           \
    cudaError_t e = (x);                                                         \
    if (e != cudaSuccess) {                                                      \
      std::printf("%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e));      \
      std::exit(1);                                                              \
    }                                                                            \
  } while (0)

constexpr int R = 2;

template <int Mode, int U = 8, int kThreads = 256>
__global__ void __launch_bounds__(kThreads)
    phases(const float* __restrict__ A, const float* __restrict__ dA, int K, int plane, int C, float* alpha_out, double* parts, unsigned* arrivals, float* map_out) {
  constexpr int kWarps = kThreads / 32;
  __shared__ double warp_parts[kWarps][32 * R];
  __shared__ double part_here[32 * R];
  __shared__ bool last;
  if (Mode == 0) {
    if (threadIdx.x == 0 && blockIdx.x == 0) map_out[blockIdx.y] = 0.0f;
    return;
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int b = Mode == 5 ? static_cast<int>(cg::this_cluster().block_rank()) : blockIdx.x;
  const int B = Mode == 5 ? static_cast<int>(cg::this_cluster().num_blocks()) : gridDim.x;
  const long n = Mode == 5 ? blockIdx.x / B : blockIdx.y;
  const int k0 = b * C, c_here = min(C, K - k0);
  const float* grad = dA + (n * K + k0) * plane;
  const float* act = A + (n * K + k0) * plane;
  double acc[R] = {};
  if (Mode == 6) {
    constexpr int kIters = 4;  // up to 4·U·warps channels per block (256 at U = 8, 8 warps)
    float a_all[kIters][U][R];
#pragma unroll
    for (int it = 0; it < kIters; ++it)
#pragma unroll
      for (int u = 0; u < U; ++u)
#pragma unroll
        for (int j = 0; j < R; ++j) {
          const int c = warp + it * U * kWarps + u * kWarps, p = lane + 32 * j;
          a_all[it][u][j] = c < c_here && p < plane ? act[c * plane + p] : 0.0f;
        }
    cudaGridDependencySynchronize();  // what the previous kernel writes: ∂y/∂A, the parts, the counters
#pragma unroll
    for (int it = 0; it < kIters; ++it) {
      const int c0 = warp + it * U * kWarps;
      if (c0 >= c_here) break;  // the same for the whole warp
      float g[U][R];
#pragma unroll
      for (int u = 0; u < U; ++u)
#pragma unroll
        for (int j = 0; j < R; ++j) {
          const int c = c0 + u * kWarps, p = lane + 32 * j;
          g[u][j] = c < c_here && p < plane ? grad[c * plane + p] : 0.0f;
        }
      float sums[U];
#pragma unroll
      for (int u = 0; u < U; ++u) sums[u] = g[u][0] + g[u][1];
      const float alpha = gcam::cuda::warp_sums<U>(sums) / static_cast<float>(plane);
      const int c_alpha = c0 + (lane / (32 / U)) * kWarps;
      if (lane % (32 / U) == 0 && c_alpha < c_here) alpha_out[n * K + k0 + c_alpha] = alpha;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const double weight = __shfl_sync(0xffffffffu, alpha, gcam::cuda::lane_of_sum<U>(u));
#pragma unroll
        for (int j = 0; j < R; ++j) acc[j] += weight * a_all[it][u][j];
      }
    }
    cudaTriggerProgrammaticLaunchCompletion();  // the next launch may start reading its A
  }
  for (int c0 = warp; Mode != 6 && c0 < c_here; c0 += U * kWarps) {
    float g[U][R], a[U][R];
#pragma unroll
    for (int u = 0; u < U; ++u)
#pragma unroll
      for (int j = 0; j < R; ++j) {
        const int c = c0 + u * kWarps, p = lane + 32 * j;
        const bool in = c < c_here && p < plane;
        g[u][j] = in ? grad[c * plane + p] : 0.0f;
        a[u][j] = in ? act[c * plane + p] : 0.0f;
      }
    float sums[U];
#pragma unroll
    for (int u = 0; u < U; ++u) sums[u] = g[u][0] + g[u][1];
    const float alpha = gcam::cuda::warp_sums<U>(sums) / static_cast<float>(plane);
    const int c_alpha = c0 + (lane / (32 / U)) * kWarps;
    if (lane % (32 / U) == 0 && c_alpha < c_here) alpha_out[n * K + k0 + c_alpha] = alpha;
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const double weight = __shfl_sync(0xffffffffu, alpha, gcam::cuda::lane_of_sum<U>(u));
#pragma unroll
      for (int j = 0; j < R; ++j) acc[j] += weight * a[u][j];
    }
  }
#pragma unroll
  for (int j = 0; j < R; ++j) warp_parts[warp][lane + 32 * j] = acc[j];
  __syncthreads();
  double mine = 0.0;
  if (threadIdx.x < plane)
    for (int w = 0; w < kWarps; ++w) mine += warp_parts[w][threadIdx.x];
  if (Mode == 5) {
    cg::cluster_group cluster = cg::this_cluster();
    if (threadIdx.x < plane) part_here[threadIdx.x] = mine;
    cluster.sync();
    if (b == 0 && threadIdx.x < plane) {
      double total = 0.0;
      for (int q = 0; q < B; ++q) total += cluster.map_shared_rank(part_here, q)[threadIdx.x];
      map_out[n * plane + threadIdx.x] = total > 0.0 ? static_cast<float>(total) : 0.0f;
    }
    cluster.sync();
    return;
  }
  double* part = parts + (n * B + b) * plane;
  if (threadIdx.x < plane) part[threadIdx.x] = mine;
  if (Mode == 1) return;
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    last = atomicAdd(arrivals + n, 1u) == static_cast<unsigned>(B - 1);
    if (last) arrivals[n] = 0;
    __threadfence();
  }
  __syncthreads();
  if (!last) return;
  if (Mode == 2) {
    if (threadIdx.x == 0) map_out[n * plane] = 1.0f;
    return;
  }
  if (threadIdx.x < plane) {
    double total = 0.0;
    for (int q = 0; q < B; ++q) total += __ldcg(parts + (n * B + q) * plane + threadIdx.x);
    map_out[n * plane + threadIdx.x] = total > 0.0 ? static_cast<float>(total) : 0.0f;
  }
  if (Mode == 3) return;
  // Mode 4: the normalisation (both extremes by one block reduction)
  __shared__ float lo_s[kWarps], hi_s[kWarps];
  float v = threadIdx.x < plane ? map_out[n * plane + threadIdx.x] : 0.0f;
  float lo = threadIdx.x < plane ? v : INFINITY, hi = threadIdx.x < plane ? v : -INFINITY;
  for (int o = 16; o > 0; o /= 2) {
    lo = fminf(lo, __shfl_xor_sync(0xffffffffu, lo, o));
    hi = fmaxf(hi, __shfl_xor_sync(0xffffffffu, hi, o));
  }
  if (lane == 0) lo_s[warp] = lo, hi_s[warp] = hi;
  __syncthreads();
  for (int w = 0; w < kWarps; ++w) lo = fminf(lo, lo_s[w]), hi = fmaxf(hi, hi_s[w]);
  if (threadIdx.x < plane) map_out[n * plane + threadIdx.x] = (v - lo) / (hi - lo + 1e-7f);
}

// The median over 50 replays of a graph of 20 launches, µs per launch (GPU events around each replay).
float median_launch_us(cudaGraph_t graph, cudaStream_t s) {
  cudaGraphExec_t exec;
  CHECK(cudaGraphInstantiate(&exec, graph, 0));
  cudaEvent_t e0, e1;
  CHECK(cudaEventCreate(&e0));
  CHECK(cudaEventCreate(&e1));
  std::vector<float> times;
  for (int r = 0; r < 51; ++r) {  // the first replay warms up
    CHECK(cudaEventRecord(e0, s));
    CHECK(cudaGraphLaunch(exec, s));
    CHECK(cudaEventRecord(e1, s));
    CHECK(cudaEventSynchronize(e1));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, e0, e1));
    if (r > 0) times.push_back(ms * 1000.0f / 20);
  }
  std::sort(times.begin(), times.end());
  CHECK(cudaGraphExecDestroy(exec));
  CHECK(cudaGraphDestroy(graph));
  return times[times.size() / 2];
}

template <int Mode, int U = 8, int kThreads = 256>
float time_mode(int N, int C, const std::vector<float*>& As, const std::vector<float*>& dAs, float* alpha,
                double* parts, unsigned* arrivals, float* map, cudaStream_t s, bool pdl = false) {
  const int K = 2048, plane = 49, B = (K + C - 1) / C;
  cudaGraph_t graph;
  CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < 20; ++i) {
    const float* A = As[i % As.size()];
    const float* dA = dAs[i % dAs.size()];
    if (Mode == 5) {
      cudaLaunchConfig_t config = {};
      config.gridDim = dim3(N * B);
      config.blockDim = dim3(kThreads);
      config.stream = s;
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeClusterDimension;
      attr[0].val.clusterDim.x = B;
      attr[0].val.clusterDim.y = 1;
      attr[0].val.clusterDim.z = 1;
      config.attrs = attr;
      config.numAttrs = 1;
      CHECK(cudaLaunchKernelEx(&config, phases<5, U, kThreads>, A, dA, K, plane, C, alpha, parts, arrivals, map));
    } else if (pdl) {
      cudaLaunchConfig_t config = {};
      config.gridDim = dim3(B, N);
      config.blockDim = dim3(kThreads);
      config.stream = s;
      cudaLaunchAttribute attr[1];
      attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
      attr[0].val.programmaticStreamSerializationAllowed = 1;
      config.attrs = attr;
      config.numAttrs = 1;
      CHECK(cudaLaunchKernelEx(&config, phases<Mode, U, kThreads>, A, dA, K, plane, C, alpha, parts, arrivals, map));
    } else {
      phases<Mode, U, kThreads><<<dim3(B, N), kThreads, 0, s>>>(A, dA, K, plane, C, alpha, parts, arrivals, map);
    }
  }
  CHECK(cudaStreamEndCapture(s, &graph));
  return median_launch_us(graph, s);
}

int main() {
  CHECK(cudaFuncSetAttribute(phases<5, 8, 256>, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));  // 16 blocks
  cudaStream_t s;
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  for (int N : {1, 16, 64}) {
    const size_t floats = size_t(N) * 2048 * 49;
    const int copies = std::max<int>(1, std::min<int>(20, int(256e6 / (2 * floats * 4.0)) + 1));
    std::vector<float*> As(copies), dAs(copies);
    for (int i = 0; i < copies; ++i) {
      CHECK(cudaMalloc(&As[i], floats * 4));
      CHECK(cudaMalloc(&dAs[i], floats * 4));
      CHECK(cudaMemset(As[i], 0, floats * 4));
      CHECK(cudaMemset(dAs[i], 0, floats * 4));
    }
    float *alpha, *map;
    double* parts;
    unsigned* arrivals;
    CHECK(cudaMalloc(&alpha, size_t(N) * 2048 * 4));
    CHECK(cudaMalloc(&map, size_t(N) * 49 * 4));
    CHECK(cudaMalloc(&parts, size_t(N) * 64 * 49 * 8));
    CHECK(cudaMalloc(&arrivals, size_t(N) * 4));
    CHECK(cudaMemset(arrivals, 0, size_t(N) * 4));
    for (int C : {64, 128, 256}) {
      std::printf("batch %2d, %3d channels per block (%2d blocks per image), µs:", N, C, 2048 / C);
      std::printf(" empty %.2f", time_mode<0>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  +loads,parts %.2f", time_mode<1>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  +hand-off %.2f", time_mode<2>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  +sum %.2f", time_mode<3>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  +normalise %.2f", time_mode<4>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  | whole kernel, U=16: %.2f", time_mode<4, 16>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  U=4: %.2f", time_mode<4, 4>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  512 threads: %.2f", time_mode<4, 8, 512>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      if (2048 / C <= 16)
        std::printf("  cluster hand-off %.2f", time_mode<5>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  | A first %.2f", time_mode<6>(N, C, As, dAs, alpha, parts, arrivals, map, s));
      std::printf("  A first, PDL %.2f", time_mode<6>(N, C, As, dAs, alpha, parts, arrivals, map, s, true));
      std::printf("\n");
    }
    // A device-to-device copy of the same bytes, the same way (the floor's stand-in).
    {
      float* dst;
      CHECK(cudaMalloc(&dst, floats * 4 * 2));
      cudaGraph_t graph;
      CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
      for (int i = 0; i < 20; ++i) CHECK(cudaMemcpyAsync(dst, As[i % copies], floats * 4, cudaMemcpyDeviceToDevice, s));
      CHECK(cudaStreamEndCapture(s, &graph));
      std::printf("batch %2d: a copy of A alone (half the bytes), µs: %.2f\n", N, median_launch_us(graph, s));
      CHECK(cudaFree(dst));
    }
    for (int i = 0; i < copies; ++i) {
      CHECK(cudaFree(As[i]));
      CHECK(cudaFree(dAs[i]));
    }
    for (void* p : {static_cast<void*>(alpha), static_cast<void*>(map), static_cast<void*>(parts),
                    static_cast<void*>(arrivals)})
      CHECK(cudaFree(p));
  }
}
