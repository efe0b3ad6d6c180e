// reduction_phases.cu — where the fused Grad-CAM reduction's time goes (an experiment, not part of
// the build): the streamed kernel of kernels/gradcam.cu cut short after each phase, and variants of it,
// timed as bench_cuda times it (20 launches in one CUDA graph over inputs rotated through 256 MB, GPU
// events around a replay, the median of 50 replays over 20). ResNet-50's layer4 (K = 2048, 7×7) and,
// since the thirteenth session, VGG-16's features.29 (K = 512, 14×14); batch 1, 16, 64, random inputs.
//
//   nvcc -O3 -std=c++17 -arch=sm_90 bench/experiments/reduction_phases.cu -o /tmp/reduction_phases
//
// The α butterflies are kernels/warp_sums.h's. The modes (Mode, below):
//   Empty     an empty kernel on the same grid
//   Parts     loads, α and the warps' sums, each block's part written
//   HandOff   and the arrival hand-off (fence, atomic)
//   Sum       and the last block's sum of the parts (its ReLU'd raw map)
//   Whole     and the normalisation: the whole kernel; also timed with twice and half the channels per
//             warp in flight (16 and 4 on ResNet-50, 8 and 2 on VGG-16), and with 512 threads; and
//             (new) on the same inputs at every launch, which then come from L2 where they fit
//   Cluster   the whole kernel (raw map) with a cluster of the image's blocks handing the parts over
//             through distributed shared memory instead of global memory and a counter
// Added in the twelfth and thirteenth sessions without a GPU, not yet run:
//   AFirst    the whole kernel (at most two passes of the warps' loop per block: 128 channels on
//             ResNet-50, 64 on VGG-16) with the block's A loaded into registers first, then
//             cudaGridDependencySynchronize() before ∂y/∂A, the scratch and the counters, and
//             cudaTriggerProgrammaticLaunchCompletion() once the loads are done. Launched plainly it
//             only reorders the loads. Launched with programmatic dependent launch (PDL), the next
//             launch's blocks may start and read their A while this launch hands its parts over. A is
//             the forward pass's activation, written long before the reduction runs, so reading it early
//             is safe in explain too. With PDL the time per launch is a throughput in a stream of
//             back-to-back reductions, not one reduction's latency.
//   ReadOnly  the streamed kernel's loads alone (same grid, same addresses, summed and dropped): what
//             the load phase costs with no arithmetic, no part and no hand-off
//   ReadVec   each block's channels read as one contiguous run of float4 loads, summed and dropped: the
//             same bytes by the simplest access a block can make, the grid's practical floor
//   AcqRel    the whole kernel with the arrival counted by one acquire-release atomic at device scope
//             (cuda::atomic_ref) instead of a full fence on each side of a relaxed atomic
//   Bulk      the whole kernel with each block's run of ∂y/∂A and A copied into shared memory by bulk
//             copies (cp.async.bulk via cuda::device::memcpy_async_tx), every copy issued at the start by
//             one thread, in chunks of one pass of the warps' loop (64 or 32 channels), each chunk's bytes
//             counted by its own mbarrier; the same warps' loop then reads shared memory, each pass
//             waiting only for its own chunk
// Before the timings, every mode that makes a map is run once and compared with a double-precision
// reference on the host, so that a fast variant is also a right one.
#include <cooperative_groups.h>
#include <cuda/atomic>
#include <cuda/barrier>
#include <cuda/ptx>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../../kernels/warp_sums.h"

namespace cg = cooperative_groups;

// Each mode cuts the kernel short, so the code after its return is unreachable in that mode's instance.
#pragma nv_diag_suppress 128

#define CHECK(x)                                                                 \
  do {                                                                           \
    cudaError_t e = (x);                                                         \
    if (e != cudaSuccess) {                                                      \
      std::printf("%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e));      \
      std::exit(1);                                                              \
    }                                                                            \
  } while (0)

enum Mode { Empty, Parts, HandOff, Sum, Whole, Cluster, AFirst, ReadOnly, ReadVec, AcqRel, Bulk };

// A target layer: K channels of side × side pixels.
struct Layer {
  const char* name;
  int K, side;
  int plane() const { return side * side; }
};

// One pass of a warp over its U channels c0 + u·warps, loaded as g (∂y/∂A) and a (A), R pixels per
// lane: α of each channel (the lane's values, then warp_sums.h's butterfly), written to alpha_out, and
// acc_j += α_u · a[u][j] (the streamed kernel's steps 2 and 3 in kernels/gradcam.cu).
template <int U, int R, int kWarps>
__device__ void weigh_pass(const float (&g)[U][R], const float (&a)[U][R], int c0, int c_here, int plane,
                           float* alpha_out, double (&acc)[R]) {
  const int lane = threadIdx.x % 32;
  float sums[U];
#pragma unroll
  for (int u = 0; u < U; ++u) {
    sums[u] = 0.0f;
#pragma unroll
    for (int j = 0; j < R; ++j) sums[u] += g[u][j];
  }
  const float alpha = gcam::cuda::warp_sums<U>(sums) / static_cast<float>(plane);
  const int c_alpha = c0 + (lane / (32 / U)) * kWarps;
  if (lane % (32 / U) == 0 && c_alpha < c_here) alpha_out[c_alpha] = alpha;
#pragma unroll
  for (int u = 0; u < U; ++u) {
    const double weight = __shfl_sync(0xffffffffu, alpha, gcam::cuda::lane_of_sum<U>(u));
#pragma unroll
    for (int j = 0; j < R; ++j) acc[j] += weight * a[u][j];
  }
}

// R: pixels per lane (R·32 ≥ the plane: 2 for 7×7, 7 for 14×14); U: channels per warp in flight, as
// kernels/gradcam.cu chooses them (8 for R ≤ 2, else 4).
template <int Mode, int R, int U = (R <= 2 ? 8 : 4), int kThreads = 256>
__global__ void __launch_bounds__(kThreads)
    phases(const float* __restrict__ A, const float* __restrict__ dA, int K, int plane, int C, float* alpha_out,
           double* parts, unsigned* arrivals, float* map_out) {
  constexpr int kWarps = kThreads / 32;
  __shared__ double warp_parts[kWarps][32 * R];
  __shared__ double part_here[32 * R];
  __shared__ bool last;
  if constexpr (Mode == Empty) {
    if (threadIdx.x == 0 && blockIdx.x == 0) map_out[blockIdx.y] = 0.0f;
    return;
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int b = Mode == Cluster ? static_cast<int>(cg::this_cluster().block_rank()) : blockIdx.x;
  const int B = Mode == Cluster ? static_cast<int>(cg::this_cluster().num_blocks()) : gridDim.x;
  const long n = Mode == Cluster ? blockIdx.x / B : blockIdx.y;
  const int k0 = b * C, c_here = min(C, K - k0);
  const float* grad = dA + (n * K + k0) * plane;
  const float* act = A + (n * K + k0) * plane;
  double acc[R] = {};
  if constexpr (Mode == ReadVec) {
    // The run is c_here·plane floats from a 16-byte boundary (C and K multiples of 4; checked on the host).
    const float4* g4 = reinterpret_cast<const float4*>(grad);
    const float4* a4 = reinterpret_cast<const float4*>(act);
    const int count = c_here * plane / 4;
    float s = 0.0f;
#pragma unroll 4
    for (int i = threadIdx.x; i < count; i += kThreads) {
      const float4 x = g4[i], y = a4[i];
      s += (x.x + x.y + x.z + x.w) + (y.x + y.y + y.z + y.w);
    }
    if (s == 0.123f) map_out[n * plane] = s;  // never in practice; keeps every load
    return;
  }
  // Bulk: one barrier per chunk of channels (one pass of the warps' loop below: U·warps channels), so
  // that the warps start on the first chunk while the later ones are still landing.
  constexpr int kChunks = 4;
#pragma nv_diag_suppress static_var_with_dynamic_init
  __shared__ cuda::barrier<cuda::thread_scope_block> landed[kChunks];
  cuda::barrier<cuda::thread_scope_block>::arrival_token tokens[kChunks];
  if constexpr (Mode == Bulk) {
    extern __shared__ float4 stage[];  // [c_here·plane] ∂y/∂A, then [c_here·plane] A
    float* grad_s = reinterpret_cast<float*>(stage);
    float* act_s = grad_s + c_here * plane;
    const int per_chunk = U * kWarps, chunks = (c_here + per_chunk - 1) / per_chunk;  // ≤ kChunks (host-checked)
    if (threadIdx.x == 0) {
      for (int i = 0; i < chunks; ++i) init(&landed[i], blockDim.x);
      cuda::ptx::fence_proxy_async(cuda::ptx::space_shared);  // the barriers, visible to the copy engine
    }
    __syncthreads();
    for (int i = 0; i < chunks; ++i) {
      if (threadIdx.x == 0) {
        // Chunk i: channels [i·per_chunk, +count) of each tensor, from and to 16-byte boundaries (host-checked).
        const int first = i * per_chunk * plane, count = min(per_chunk, c_here - i * per_chunk) * plane;
        const unsigned bytes = static_cast<unsigned>(count * sizeof(float));
        cuda::device::memcpy_async_tx(grad_s + first, grad + first, cuda::aligned_size_t<16>(bytes), landed[i]);
        cuda::device::memcpy_async_tx(act_s + first, act + first, cuda::aligned_size_t<16>(bytes), landed[i]);
        tokens[i] = cuda::device::barrier_arrive_tx(landed[i], 1, 2 * bytes);
      } else {
        tokens[i] = landed[i].arrive();
      }
    }
    grad = grad_s, act = act_s;
  }
  if constexpr (Mode == AFirst) {
    // Up to 2·U·warps channels per block (128 at U = 8, 8 warps; the host checks): with room for 256 the
    // kernel took 184 registers, one block per SM.
    constexpr int kIters = 2;
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
      weigh_pass<U, R, kWarps>(g, a_all[it], c0, c_here, plane, alpha_out + n * K + k0, acc);
    }
    cudaTriggerProgrammaticLaunchCompletion();  // the next launch may start reading its A
  }
  float read_sum = 0.0f;  // ReadOnly: the loads' sum, so that none is dropped
  for (int c0 = warp; Mode != AFirst && c0 < c_here; c0 += U * kWarps) {
    if constexpr (Mode == Bulk) {
      const int chunk = (c0 - warp) / (U * kWarps);
      landed[chunk].wait(std::move(tokens[chunk]));
    }
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
    if constexpr (Mode == ReadOnly) {
#pragma unroll
      for (int u = 0; u < U; ++u)
#pragma unroll
        for (int j = 0; j < R; ++j) read_sum += g[u][j] + a[u][j];
      continue;
    }
    weigh_pass<U, R, kWarps>(g, a, c0, c_here, plane, alpha_out + n * K + k0, acc);
  }
  if constexpr (Mode == ReadOnly) {
    if (read_sum == 0.123f) map_out[n * plane] = read_sum;  // never in practice; keeps every load
    return;
  }
#pragma unroll
  for (int j = 0; j < R; ++j) warp_parts[warp][lane + 32 * j] = acc[j];
  __syncthreads();
  double mine = 0.0;
  if (threadIdx.x < plane)
    for (int w = 0; w < kWarps; ++w) mine += warp_parts[w][threadIdx.x];
  if constexpr (Mode == Cluster) {
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
  if constexpr (Mode == Parts) return;
  __syncthreads();
  if (threadIdx.x == 0) {
    if constexpr (Mode == AcqRel) {
      // Release: the block's parts (ordered before this by the barrier) are visible to whoever acquires
      // the count after it; acquire: the last block sees every other block's parts.
      cuda::atomic_ref<unsigned, cuda::thread_scope_device> count(arrivals[n]);
      last = count.fetch_add(1u, cuda::std::memory_order_acq_rel) == static_cast<unsigned>(B - 1);
      if (last) count.store(0u, cuda::std::memory_order_relaxed);
    } else {
      __threadfence();
      last = atomicAdd(arrivals + n, 1u) == static_cast<unsigned>(B - 1);
      if (last) arrivals[n] = 0;
      __threadfence();
    }
  }
  __syncthreads();
  if (!last) return;
  if constexpr (Mode == HandOff) {
    if (threadIdx.x == 0) map_out[n * plane] = 1.0f;
    return;
  }
  if (threadIdx.x < plane) {
    double total = 0.0;
    for (int q = 0; q < B; ++q) total += __ldcg(parts + (n * B + q) * plane + threadIdx.x);
    map_out[n * plane + threadIdx.x] = total > 0.0 ? static_cast<float>(total) : 0.0f;
  }
  if constexpr (Mode == Sum) return;
  // The normalisation (both extremes by one block reduction)
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

// What every launch of a mode shares.
struct Buffers {
  float *alpha, *map;
  double* parts;
  unsigned* arrivals;
};

// One launch of mode Mode on layer L, batch N, C channels per block, into stream s.
template <int Mode, int R, int U = (R <= 2 ? 8 : 4), int kThreads = 256>
void launch(const Layer& L, int N, int C, const float* A, const float* dA, const Buffers& o, cudaStream_t s,
            bool pdl = false) {
  const int B = (L.K + C - 1) / C;
  // AFirst holds two passes of the warps' loop in registers. ReadVec and Bulk need every run and chunk
  // to start on a 16-byte boundary: whole chunks of U·warps channels (a multiple of 4), at most 4 of
  // them for Bulk.
  const int chunk = U * (kThreads / 32);
  if (Mode == AFirst && C > 2 * chunk) {
    std::printf("%d channels per block: A first holds at most %d\n", C, 2 * chunk);
    std::exit(1);
  }
  if ((Mode == ReadVec || Mode == Bulk) && (C % chunk != 0 || L.K % C != 0 || (Mode == Bulk && C > 4 * chunk))) {
    std::printf("%d channels per block: not whole chunks of %d channels on 16-byte boundaries\n", C, chunk);
    std::exit(1);
  }
  cudaLaunchConfig_t config = {};
  config.gridDim = Mode == Cluster ? dim3(N * B) : dim3(B, N);
  config.blockDim = dim3(kThreads);
  config.dynamicSmemBytes = Mode == Bulk ? 2 * size_t(C) * L.plane() * sizeof(float) : 0;
  config.stream = s;
  cudaLaunchAttribute attr[1];
  config.attrs = attr;
  if (Mode == Cluster) {
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = B;
    attr[0].val.clusterDim.y = 1;
    attr[0].val.clusterDim.z = 1;
    config.numAttrs = 1;
  } else if (pdl) {
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    config.numAttrs = 1;
  }
  CHECK(cudaLaunchKernelEx(&config, phases<Mode, R, U, kThreads>, A, dA, L.K, L.plane(), C, o.alpha, o.parts,
                           o.arrivals, o.map));
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

template <int Mode, int R, int U = (R <= 2 ? 8 : 4), int kThreads = 256>
float time_mode(const Layer& L, int N, int C, const std::vector<float*>& As, const std::vector<float*>& dAs,
                const Buffers& o, cudaStream_t s, bool pdl = false) {
  cudaGraph_t graph;
  CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < 20; ++i)
    launch<Mode, R, U, kThreads>(L, N, C, As[i % As.size()], dAs[i % dAs.size()], o, s, pdl);
  CHECK(cudaStreamEndCapture(s, &graph));
  return median_launch_us(graph, s);
}

// The reference maps in double: raw[n, p] = max(0, Σ_k α_k A[n,k,p]) with α_k = (1/hw) Σ_p ∂y/∂A[n,k,p],
// and their min-max normalisation.
struct Reference {
  std::vector<double> raw, normalised;
};

Reference reference(const Layer& L, int N, const std::vector<float>& A, const std::vector<float>& dA) {
  const int P = L.plane();
  Reference r{std::vector<double>(size_t(N) * P), std::vector<double>(size_t(N) * P)};
  for (int n = 0; n < N; ++n) {
    double* raw = r.raw.data() + size_t(n) * P;
    for (int k = 0; k < L.K; ++k) {
      const size_t at = (size_t(n) * L.K + k) * P;
      double alpha = 0.0;
      for (int p = 0; p < P; ++p) alpha += dA[at + p];
      alpha /= P;
      for (int p = 0; p < P; ++p) raw[p] += alpha * A[at + p];
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int p = 0; p < P; ++p) {
      raw[p] = std::max(raw[p], 0.0);
      lo = std::min(lo, raw[p]), hi = std::max(hi, raw[p]);
    }
    for (int p = 0; p < P; ++p) r.normalised[size_t(n) * P + p] = (raw[p] - lo) / (hi - lo + 1e-7);
  }
  return r;
}

// One launch of the mode on (A, dA), then the largest |map − reference| (of the raw maps, relative to
// their largest value, where the mode stops before the normalisation).
template <int Mode, int R>
double error_of(const Layer& L, int N, int C, const float* A, const float* dA, const Buffers& o, cudaStream_t s,
                const Reference& ref, bool raw) {
  const size_t pixels = size_t(N) * L.plane();
  CHECK(cudaMemsetAsync(o.map, 0xff, pixels * sizeof(float), s));  // NaN: a pixel left unwritten shows
  launch<Mode, R>(L, N, C, A, dA, o, s);
  std::vector<float> map(pixels);
  CHECK(cudaMemcpyAsync(map.data(), o.map, map.size() * sizeof(float), cudaMemcpyDeviceToHost, s));
  CHECK(cudaStreamSynchronize(s));
  const std::vector<double>& want = raw ? ref.raw : ref.normalised;
  const double scale = raw ? std::max(1e-30, *std::max_element(want.begin(), want.end())) : 1.0;
  double worst = 0.0;
  for (size_t i = 0; i < map.size(); ++i) {
    const double e = std::fabs(map[i] - want[i]) / scale;
    worst = std::isnan(e) ? INFINITY : std::max(worst, e);
  }
  return worst;
}

// Every mode and variant on layer L at batch 1, 16 and 64, for three cuts of the channels into blocks
// (the kernel's cuts: 128 and 256 channels per block on ResNet-50's layer4, 64 and 128 on VGG-16's
// features.29). R: the layer's pixels per lane.
template <int R>
void run_layer(const Layer& L, const std::vector<int>& cuts, cudaStream_t s) {
  constexpr int U = R <= 2 ? 8 : 4;  // the kernel's channels per warp in flight
  CHECK(cudaFuncSetAttribute(phases<Cluster, R>, cudaFuncAttributeNonPortableClusterSizeAllowed, 1));  // 16 blocks
  CHECK(cudaFuncSetAttribute(phases<Bulk, R>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(2 * 4 * U * 8 * L.plane() * sizeof(float))));  // 4 chunks of each
  const int fewest = *std::min_element(cuts.begin(), cuts.end());
  for (int N : {1, 16, 64}) {
    const size_t floats = size_t(N) * L.K * L.plane();
    // Activations in [0, 1) (after a ReLU), gradients in [−0.5, 0.5) with a slight lean, so that maps differ.
    std::vector<float> A(floats), dA(floats);
    for (size_t i = 0; i < floats; ++i) {
      A[i] = static_cast<float>(std::rand()) / RAND_MAX;
      dA[i] = static_cast<float>(std::rand()) / RAND_MAX - 0.49f;
    }
    const Reference ref = reference(L, N, A, dA);
    const int copies = std::max<int>(1, std::min<int>(20, int(256e6 / (2 * floats * 4.0)) + 1));
    std::vector<float*> As(copies), dAs(copies);
    for (int i = 0; i < copies; ++i) {
      CHECK(cudaMalloc(&As[i], floats * 4));
      CHECK(cudaMalloc(&dAs[i], floats * 4));
      CHECK(cudaMemcpy(As[i], A.data(), floats * 4, cudaMemcpyHostToDevice));
      CHECK(cudaMemcpy(dAs[i], dA.data(), floats * 4, cudaMemcpyHostToDevice));
    }
    Buffers o;
    CHECK(cudaMalloc(&o.alpha, size_t(N) * L.K * 4));
    CHECK(cudaMalloc(&o.map, size_t(N) * L.plane() * 4));
    CHECK(cudaMalloc(&o.parts, size_t(N) * (L.K / fewest) * L.plane() * 8));
    CHECK(cudaMalloc(&o.arrivals, size_t(N) * 4));
    CHECK(cudaMemset(o.arrivals, 0, size_t(N) * 4));
    for (int C : cuts) {
      const float *a0 = As[0], *d0 = dAs[0];
      const int B = L.K / C;
      std::printf("%s batch %2d, %3d channels per block (%2d blocks per image), largest |map − reference|:", L.name, N,
                  C, B);
      std::printf(" whole %.1e", error_of<Whole, R>(L, N, C, a0, d0, o, s, ref, false));
      std::printf("  sum (raw) %.1e", error_of<Sum, R>(L, N, C, a0, d0, o, s, ref, true));
      if (B <= 16) std::printf("  cluster (raw) %.1e", error_of<Cluster, R>(L, N, C, a0, d0, o, s, ref, true));
      if (C <= 2 * U * 8) std::printf("  A first %.1e", error_of<AFirst, R>(L, N, C, a0, d0, o, s, ref, false));
      std::printf("  acq_rel %.1e", error_of<AcqRel, R>(L, N, C, a0, d0, o, s, ref, false));
      std::printf("  bulk %.1e\n", error_of<Bulk, R>(L, N, C, a0, d0, o, s, ref, false));
      std::printf("%s batch %2d, %3d channels per block (%2d blocks per image), µs:", L.name, N, C, B);
      std::printf(" empty %.2f", time_mode<Empty, R>(L, N, C, As, dAs, o, s));
      std::printf("  +loads,parts %.2f", time_mode<Parts, R>(L, N, C, As, dAs, o, s));
      std::printf("  +hand-off %.2f", time_mode<HandOff, R>(L, N, C, As, dAs, o, s));
      std::printf("  +sum %.2f", time_mode<Sum, R>(L, N, C, As, dAs, o, s));
      std::printf("  +normalise %.2f", time_mode<Whole, R>(L, N, C, As, dAs, o, s));
      // As explain runs it: the backward pass has just written ∂y/∂A, so the inputs may sit in L2 (50 MB
      // on an H100/H200: both tensors, 12.8 MB at batch 16, fit; at 64 they are 51 MB). Not the issue's floor,
      // which is from DRAM.
      std::printf("  (same inputs every launch: %.2f)", time_mode<Whole, R>(L, N, C, {As[0]}, {dAs[0]}, o, s));
      std::printf("  | whole kernel, U=%d: %.2f", 2 * U, time_mode<Whole, R, 2 * U>(L, N, C, As, dAs, o, s));
      std::printf("  U=%d: %.2f", U / 2, time_mode<Whole, R, U / 2>(L, N, C, As, dAs, o, s));
      std::printf("  512 threads: %.2f", time_mode<Whole, R, U, 512>(L, N, C, As, dAs, o, s));
      if (B <= 16) std::printf("  cluster hand-off %.2f", time_mode<Cluster, R>(L, N, C, As, dAs, o, s));
      if (C <= 2 * U * 8) {
        std::printf("  | A first %.2f", time_mode<AFirst, R>(L, N, C, As, dAs, o, s));
        std::printf("  A first, PDL %.2f", time_mode<AFirst, R>(L, N, C, As, dAs, o, s, true));
      }
      std::printf("  | loads alone %.2f", time_mode<ReadOnly, R>(L, N, C, As, dAs, o, s));
      std::printf("  float4 runs alone %.2f", time_mode<ReadVec, R>(L, N, C, As, dAs, o, s));
      std::printf("  | acq_rel hand-off %.2f", time_mode<AcqRel, R>(L, N, C, As, dAs, o, s));
      std::printf("  bulk copies %.2f", time_mode<Bulk, R>(L, N, C, As, dAs, o, s));
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
      std::printf("%s batch %2d: a copy of A alone (half the bytes), µs: %.2f\n", L.name, N, median_launch_us(graph, s));
      CHECK(cudaFree(dst));
    }
    for (int i = 0; i < copies; ++i) {
      CHECK(cudaFree(As[i]));
      CHECK(cudaFree(dAs[i]));
    }
    for (void* p : {static_cast<void*>(o.alpha), static_cast<void*>(o.map), static_cast<void*>(o.parts),
                    static_cast<void*>(o.arrivals)})
      CHECK(cudaFree(p));
  }
}

int main() {
  cudaStream_t s;
  CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::srand(7);
  run_layer<2>(Layer{"resnet50.layer4", 2048, 7}, {64, 128, 256}, s);
  run_layer<7>(Layer{"vgg16.features.29", 512, 14}, {32, 64, 128}, s);
}
