// gradcam_clustered.cu — Grad-CAM's reduction with each image's blocks in one thread-block cluster
// (Hopper and later), handing their parts over through distributed shared memory instead of global
// memory and an arrival counter (formulas in gcam/cam.h; the streamed kernel in gradcam.cu is the same
// up to the hand-off).
//
// Why: at batch 16 the streamed kernel's hand-off is on the critical path of every image. Its last
// block must see the other blocks' parts, and that costs a write of each part to global memory, a fence,
// an atomic, a second fence and a read of the parts back (on an H200, cut short after each phase: about
// 1 µs for the fence and the count, 0.8 for the last block's sum and normalisation, against a floor of
// 3.1 µs for the whole reduction; bench/experiments/reduction_phases.cu). Here the B blocks of image n
// form one cluster, so they are on the GPU together (B = 8, the portable cluster size, unless a forced
// cut asks for up to 16, which Hopper allows as a "non-portable" size):
//   0. every thread arrives at the cluster barrier as it starts (the rule for distributed shared memory:
//      no block writes into another's before that one has started)
//   1–4. gradcam_pass.h's steps: each block's channels streamed through its warps' registers, α written,
//      the block's part of Σ_k α_k A_k summed over its warps. The cut: as few channels per block as
//      spreads K over 8 blocks, and as many warps as take them in one pass (up to 1024 threads for
//      planes of ≤ 128 pixels, 512 above: register room); all of a block's loads are in flight at once
//   5. each block waits on the barrier of step 0 (long passed: its blocks started together), writes its
//      part into slot b of block 0's shared memory, and arrives at the cluster barrier again (release)
//   6. block 0 waits there (acquire), adds the B slots in block order, thread p holding pixel p:
//      L_p = ReLU(Σ_b part_b[p]), and normalises: (L − min)/(max − min + ε), or all zeros (flagged)
//      when max = min = 0. The other blocks wait too before they exit, so that none leaves while the
//      cluster's barrier still counts it.
// The sums run in a fixed order (warps, then blocks), so a run gives the same bits each time.
//
// With bulk loads (Reduction::ClusteredBulk), step 1 changes hands: thread 0 asks the SM's copy engine
// (the Tensor Memory Accelerator, PTX cp.async.bulk) for the block's two slices, ∂y/∂A's and A's
// (c_here·h·w floats each, contiguous in NCHW), one instruction per tensor, into the block's shared
// memory; an mbarrier counts their bytes in, and every thread waits on it before steps 2–4 read the
// slices from there. The warps' loads streamed the same bytes through 2·U·R loads per lane; here all of a
// block's bytes are asked for at once by two instructions. The copy needs 16-byte alignment (each
// slice's start and length: C·h·w and K·h·w multiples of 4 floats, and the tensors' own addresses) and
// room in shared memory for both slices (at batch 16: 2 × 50 KB a block on both target layers); where a
// shape lacks either, the cut is the plain one's. Not yet timed.
//
// What was measured before it (H200, batch 16, resnet50's layer4): a cluster kernel of the ninth session
// that staged its blocks' channels by cp.async took 11.1 µs (since removed: its loads were the slow
// part); the experiment's streamed kernel with a cluster hand-off (16 blocks of 256 threads, two passes
// per warp, block 0 reading the parts from the others' shared memory between two cluster barriers) took
// 7.6 against 8.1 for the same kernel's global hand-off. This one adds one pass per warp (all of a
// block's loads at once), 8 blocks, and a single barrier after the parts are pushed. Not yet timed.
#include <cooperative_groups.h>
#include <cuda/ptx>

#include "../src/cuda/cam.h"
#include "gradcam_clustered.h"
#include "gradcam_pass.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

namespace cg = cooperative_groups;

constexpr int kPortableClusterBlocks = 8;  // what every GPU with clusters launches; the default cut
constexpr int kMaxClusterBlocks = 16;      // Hopper's most, "non-portable": only with a cut that asks for it

// The most threads a block may have for R pixels per lane: 1024 while the kernel fits 64 registers a
// thread (65536 / 1024), 512 above (R ≥ 5 needs 80–98).
__host__ __device__ constexpr int cluster_threads_max(int R) { return R <= 4 ? 1024 : 512; }

// The kernel's shared memory in bytes, in this order: the warps' shares [W][32·R] and the slots
// [B][32·R] (doubles, 16-byte multiples); with bulk loads also the mbarrier (8 bytes, in 16) and the
// block's slices of ∂y/∂A and A (C·plane floats each).
__host__ __device__ constexpr size_t clustered_shared_bytes(int R, int64_t threads, int64_t blocks, bool bulk,
                                                            int64_t channels, int64_t plane) {
  return static_cast<size_t>((threads / 32 + blocks) * 32 * R) * sizeof(double) +
         (bulk ? 16 + 2 * static_cast<size_t>(channels * plane) * sizeof(float) : 0);
}

// Step 1 by bulk copies: thread 0 asks the copy engine for the block's slices of ∂y/∂A and A (`bytes`
// each, 16-byte aligned, at grad and act) into grad_here and act_here in shared memory, and every thread
// of the block returns once both have landed. `landed` is an mbarrier in shared memory: one arrival
// (thread 0's, which also says how many bytes to expect), and phase 0 completes when those bytes are in.
__device__ void bulk_load(const float* grad, const float* act, uint32_t bytes, uint64_t* landed, float* grad_here,
                          float* act_here) {
#if __CUDA_ARCH__ >= 900
  namespace ptx = ::cuda::ptx;
  if (threadIdx.x == 0) {
    ptx::mbarrier_init(landed, 1);
    ptx::fence_proxy_async(ptx::space_shared);  // the copy engine sees the barrier initialised
  }
  __syncthreads();  // and so does every thread
  if (threadIdx.x == 0) {
    (void)ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta, ptx::space_shared, landed, 2 * bytes);
    ptx::cp_async_bulk(ptx::space_cluster, ptx::space_global, grad_here, grad, bytes, landed);
    ptx::cp_async_bulk(ptx::space_cluster, ptx::space_global, act_here, act, bytes, landed);
  }
  while (!ptx::mbarrier_try_wait_parity(landed, 0)) {
  }
#endif
}

template <int R, bool kBulkLoads>
__global__ void __launch_bounds__(cluster_threads_max(R), 1)
    gradcam_clustered(const float* __restrict__ A, const float* __restrict__ dA, int K, int plane, int C, float sign,
                      float* alpha_out, float* raw_out, float* map_out, float* zero_out) {
  // clustered_shared_bytes' layout: [W][32·R] the warps' shares, [B][32·R] slots (in block 0, each
  // block's part of the image), then with bulk loads the mbarrier and the two slices.
  extern __shared__ __align__(16) double shared[];
#if __CUDA_ARCH__ >= 900
  cg::cluster_group cluster = cg::this_cluster();
  cluster.barrier_arrive();  // 0.
  const int b = static_cast<int>(cluster.block_rank()), B = static_cast<int>(cluster.num_blocks());
  const int warps = static_cast<int>(blockDim.x / 32);
  const int64_t n = blockIdx.y;
  double(*warp_parts)[32 * R] = reinterpret_cast<double(*)[32 * R]>(shared);
  double(*slots)[32 * R] = warp_parts + warps;

  // 1–4.
  const BlockSlice slice = block_slice(K, plane, C, b, n);
  float* alpha_here = alpha_out + n * K + b * C;
  double mine;
  if constexpr (kBulkLoads) {
    unsigned char* after_slots = reinterpret_cast<unsigned char*>(slots + B);
    uint64_t* landed = reinterpret_cast<uint64_t*>(after_slots);
    float* grad_here = reinterpret_cast<float*>(after_slots + 16);
    float* act_here = grad_here + static_cast<int64_t>(C) * plane;
    bulk_load(dA + slice.first, A + slice.first, static_cast<uint32_t>(slice.c_here * plane * sizeof(float)), landed,
              grad_here, act_here);
    mine = slice_share<R>(grad_here, act_here, slice.c_here, plane, warps, sign, alpha_here, warp_parts);
  } else {
    mine = slice_share<R>(dA + slice.first, A + slice.first, slice.c_here, plane, warps, sign, alpha_here,
                          warp_parts);
  }

  // 5.
  cluster.barrier_wait();
  const bool holds = threadIdx.x < plane;
  if (holds) cluster.map_shared_rank(&slots[b][0], 0)[threadIdx.x] = mine;
  cluster.barrier_arrive();  // release: the slot written above is seen by whoever waits after this
  cluster.barrier_wait();    // acquire
  if (b != 0) return;

  // 6.
  double total = 0.0;
  if (holds)
    for (int q = 0; q < B; ++q) total += slots[q][threadIdx.x];
  const float L = total > 0.0 ? static_cast<float>(total) : 0.0f;  // ReLU
  if (holds) raw_out[n * plane + threadIdx.x] = L;
  normalize_held(L, holds, map_out + n * plane, zero_out + n);
#else
  __trap();  // never launched: clusters_supported() is false for a binary without Hopper code
#endif
}

// Calls f(kernel) with the kernel instance for R = runs pixels per lane and bulk loads or not.
template <typename F>
void with_kernel(int64_t runs, bool bulk, F f) {
  with_runs(runs, [&](auto R) {
    constexpr int kR = decltype(R)::value;
    if (bulk)
      f(kR, gradcam_clustered<kR, true>);
    else
      f(kR, gradcam_clustered<kR, false>);
  });
}

// The launch of N images' clusters of this cut on planes of `plane` pixels; attribute: the storage for
// its one launch attribute.
cudaLaunchConfig_t launch_config(int R, int64_t N, int64_t plane, const ClusterCut& cut,
                                 cudaLaunchAttribute& attribute) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(static_cast<unsigned>(cut.blocks), static_cast<unsigned>(N));
  config.blockDim = dim3(static_cast<unsigned>(cut.threads));
  config.dynamicSmemBytes = clustered_shared_bytes(R, cut.threads, cut.blocks, cut.bulk, cut.channels, plane);
  config.stream = stream();
  attribute.id = cudaLaunchAttributeClusterDimension;
  attribute.val.clusterDim.x = static_cast<unsigned>(cut.blocks);  // one image's blocks
  attribute.val.clusterDim.y = 1;
  attribute.val.clusterDim.z = 1;
  config.attrs = &attribute;
  config.numAttrs = 1;
  return config;
}

// How many clusters of this cut the GPU holds at once.
int64_t resident(int64_t plane, const ClusterCut& cut) {
  int count = 0;
  with_kernel((plane + 31) / 32, cut.bulk, [&](int R, auto kernel) {
    cudaLaunchAttribute attribute;
    const cudaLaunchConfig_t config = launch_config(R, 1, plane, cut, attribute);
    GCAM_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&count, kernel, &config));
  });
  return count;
}

// The most dynamic shared memory a block of the bulk-loading kernels may ask for: the device's opt-in
// limit less the kernels' static shared memory (block_min_max's). Set on them by clusters_supported.
size_t& bulk_shared_limit() {
  static size_t limit = 0;
  return limit;
}

}  // namespace

bool clusters_supported() {
  static const bool supported = [] {
    int device = 0, launch = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&launch, cudaDevAttrClusterLaunch, device) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    cudaFuncAttributes attributes{};
    if (cudaFuncGetAttributes(&attributes, gradcam_clustered<1, false>) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    if (launch == 0 || attributes.binaryVersion < 90) return false;
    // Once, before any launch (and so outside any graph capture): clusters of up to 16 blocks, and shared
    // memory past the default 48 KB where the largest cut needs it (the bulk-loading kernels: all the
    // device allows, since their slices fill it).
    int optin = 0;
    bool allowed = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) == cudaSuccess;
    for (bool bulk : {false, true})
      with_each_runs([&](auto R) {
        constexpr int kR = decltype(R)::value;
        with_kernel(kR, bulk, [&](int, auto kernel) {
          cudaFuncAttributes own{};
          allowed = allowed && cudaFuncGetAttributes(&own, kernel) == cudaSuccess;
          const size_t most = bulk ? static_cast<size_t>(optin) - own.sharedSizeBytes
                                   : clustered_shared_bytes(kR, cluster_threads_max(kR), kMaxClusterBlocks, false, 0, 0);
          if (bulk) bulk_shared_limit() = bulk_shared_limit() == 0 ? most : std::min(bulk_shared_limit(), most);
          allowed = allowed &&
                    cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) == cudaSuccess &&
                    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(most)) == cudaSuccess;
        });
      });
    if (!allowed) cudaGetLastError();
    return allowed;
  }();
  return supported;
}

std::optional<ClusterCut> clustered_cut(int64_t K, int64_t plane, int64_t channels_per_block, bool bulk) {
  const int64_t runs = (plane + 31) / 32;
  if (runs > kMaxRuns || K * plane > int64_t{1} << 30 || !clusters_supported()) return std::nullopt;
  const int64_t C = channels_per_block > 0 ? std::min(channels_per_block, K)
                                           : (K + kPortableClusterBlocks - 1) / kPortableClusterBlocks;
  const int64_t B = (K + C - 1) / C;
  if (B > kMaxClusterBlocks) return std::nullopt;
  // One pass of the warps over the block's channels (U per warp), and at least one thread per pixel
  // (block 0 finishes the map with thread p holding pixel p), in whole warps.
  const int64_t U = stream_unroll(static_cast<int>(runs)), warps_for_channels = (C + U - 1) / U;
  const int64_t threads = std::min<int64_t>(cluster_threads_max(static_cast<int>(runs)),
                                            32 * std::max(warps_for_channels, runs));
  ClusterCut cut{C, B, threads, 0, bulk};
  // Bulk copies: every slice's start and length in 16-byte steps (C·plane and K·plane multiples of 4
  // floats; the last slice's length is their difference), and both slices in shared memory.
  if (bulk && ((C * plane) % 4 != 0 || (K * plane) % 4 != 0 ||
               clustered_shared_bytes(static_cast<int>(runs), threads, B, true, C, plane) > bulk_shared_limit()))
    return std::nullopt;
  // A cluster must fit on the GPU whole: 16 blocks of 1024 threads need 16 free SMs in one of its GPCs.
  cut.resident = resident(plane, cut);
  if (cut.resident < 1) return std::nullopt;
  return cut;
}

void launch_clustered(const Tensor& A, const Tensor& dA, bool counterfactual, const ClusterCut& cut,
                      GradcamMaps& r) {
  const int64_t N = A.size(0), K = A.size(1), plane = A.size(2) * A.size(3);
  GCAM_CHECK(N <= 65535, "gradcam: ", A.shape().str(), " is beyond the clustered kernel's grid");
  const float sign = counterfactual ? -1.0f : 1.0f;
  // The bulk copies also need the tensors' own addresses 16-byte aligned. The allocator's are, and so
  // is every view Tensor makes of them here (select's offsets are whole images, K·h·w floats, a
  // multiple of 4 where the cut allows bulk loads); should one not be, the same cut loads through the
  // warps rather than fault.
  const auto aligned = [](const float* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  ClusterCut run = cut;
  run.bulk = cut.bulk && aligned(A.data()) && aligned(dA.data());
  with_kernel((plane + 31) / 32, run.bulk, [&](int R, auto kernel) {
    cudaLaunchAttribute attribute;
    const cudaLaunchConfig_t config = launch_config(R, N, plane, run, attribute);
    GCAM_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, A.data(), dA.data(), static_cast<int>(K),
                                       static_cast<int>(plane), static_cast<int>(run.channels), sign,
                                       r.alpha.data(), r.raw.data(), r.map.data(), r.zero_flags.data()));
    GCAM_CHECK_LAUNCH();
  });
}

}  // namespace gcam::cuda
