// gradcam_clustered.h — the clustered Grad-CAM reduction's cut and launch (internal to kernels/; the
// kernel and its design: gradcam_clustered.cu). gradcam.cu's gradcam_maps picks it for
// Reduction::Clustered where it fits.
#pragma once

#include <cstdint>
#include <optional>

#include "../src/cuda/cam.h"
#include "gcam/tensor.h"

namespace gcam::cuda {

// How an image's K channels are cut: `channels` per block, `blocks` blocks (one cluster), `threads` each;
// how many such clusters the GPU holds at once (cudaOccupancyMaxActiveClusters: below the batch, the
// images' clusters run in more than one wave); and whether each block's slices come in by bulk copies
// into shared memory (Reduction::ClusteredBulk) or through its warps' loads.
struct ClusterCut {
  int64_t channels, blocks, threads, resident;
  bool bulk;
};

// The cut for feature maps of K channels of `plane` pixels (channels_per_block > 0 forces it), or none
// where the clustered kernel does not fit: planes over 224 pixels, more than 16 blocks per image, a
// cluster that this GPU cannot hold, or a device (or a build) without thread-block clusters; with bulk
// loads also slices that are not in 16-byte steps or do not fit in shared memory. The default cut
// spreads K over 8 blocks.
std::optional<ClusterCut> clustered_cut(int64_t K, int64_t plane, int64_t channels_per_block, bool bulk);

// Queues the kernel: r's α, raw maps, maps and zero flags from activations A and gradients dA (N, K, h, w).
void launch_clustered(const Tensor& A, const Tensor& dA, bool counterfactual, const ClusterCut& cut, GradcamMaps& r);

}  // namespace gcam::cuda
