// cuda/cam.h — Grad-CAM's own steps on the GPU, fused (internal). The formulas are gcam/cam.h's; the CPU
// functions there are the reference these are tested against.
//
//   one_hot_seed      logits → the backward pass's seed, the class chosen on the device (no host round trip)
//   gradcam_maps      A, ∂y/∂A (N, K, h, w)  →  α (N, K), raw ReLU(Σ_k α_k A_k) (N, h, w), the per-image
//                     min-max normalised map (N, h, w), and which images' maps were zero everywhere —
//                     one launch, several blocks per image (counterfactual: α negated).
//   draw              normalised maps (N, h, w) → bilinear, half-pixel centres (N, H, W); Guided Grad-CAM
//                     = guided ⊙ upsampled map (N, 3, H, W); colour heatmaps and overlays on the images
//                     (N, H, W, 3) bytes, gcam/colormap.h's formulas — one launch, each output as asked.
//   gradient_pictures gradients (N, 3, H, W) → gcam/colormap.h's gradient pictures (N, H, W, 3) — one
//                     launch, a block per image.
//   localize          maps (N, H, W) → each map's box, gcam/cam.h's localize (threshold · peak, the
//                     largest 8-connected component) — six launches, the boxes left on the device.
#pragma once

#include <cstdint>
#include <vector>

#include "device_array.h"
#include "gcam/cam.h"
#include "gcam/colormap.h"
#include "gcam/tensor.h"

namespace gcam::cuda {

struct GradcamMaps {
  Tensor alpha, raw, map;       // (N, K), (N, h, w), (N, h, w), on the device
  Tensor zero_flags;            // (N): 1 where image n's map was zero everywhere, on the device
  std::vector<bool> all_zero;   // the same flags on the host, unless the copy was skipped
};
// Which kernel gradcam_maps runs (gradcam.cu has each one's design and times):
//   Streamed   planes of at most 224 pixels (ResNet-50's 7×7, VGG-16's 14×14): warps stream channels
//              through registers
//   Sliced     any shape: blocks of channels staged in shared memory (or read from global memory for
//              large planes)
//   Clustered  as Streamed, each image's blocks (8, or up to 16 by a forced cut) one thread-block
//              cluster that hands the parts over through distributed shared memory (Hopper and later;
//              gradcam_clustered.cu)
//   ClusteredBulk  as Clustered, each block's slices of ∂y/∂A and A brought into its shared memory by
//              two bulk copies (the copy engine, cp.async.bulk) instead of its warps' loads
// The first two hand the blocks' parts of an image over through global memory. Auto takes Streamed where
// it fits and Sliced elsewhere; Streamed asked for where it does not fit falls back to Sliced, Clustered
// to what Auto takes (planes over 224 pixels, more than 16 blocks per image, no clusters), and
// ClusteredBulk to Clustered (slices not in 16-byte steps, or too large for shared memory).
// channels_per_block > 0 forces that cut of the channels into blocks, 0 leaves each kernel its own.
// Tests and benchmarks compare the kernels and cuts.
enum class Reduction { Auto, Streamed, Sliced, Clustered, ClusteredBulk };
struct ReductionOptions {
  Reduction kernel = Reduction::Auto;
  int64_t channels_per_block = 0;
};
// copy_flags = false leaves all_zero empty (no host synchronisation: what a graph capture needs).
GradcamMaps gradcam_maps(const Tensor& activations, const Tensor& gradients, bool counterfactual,
                         bool copy_flags = true, ReductionOptions how = {});
// The kernel gradcam_maps runs for activations of this shape (N, K, h, w): never Auto.
Reduction gradcam_reduction_for(const Shape& activations, ReductionOptions how = {});
// Whether Reduction::Clustered can run here: a GPU with thread-block clusters (compute capability 9.0
// and later) and a build that holds the kernel's Hopper code.
bool clusters_supported();
// For activations of this shape, how many of the clustered kernel's clusters (one per image) the GPU
// holds at once; 0 where gradcam_maps would run another kernel.
int64_t resident_clusters(const Shape& activations, ReductionOptions how);

// The backward seed for each image's class, on the device: seed (N, classes) one-hot at class[n], or at
// the top-1 logit (first of equal maxima, like the CPU) where class[n] < 0; the class used goes to chosen[n].
Tensor one_hot_seed(const Tensor& logits, const DeviceArray<int32_t>& classes, DeviceArray<int32_t>& chosen);

// What draw makes from normalised maps (N, h, w) in one launch, each output only if asked.
struct Drawing {
  int64_t height = 0, width = 0;  // the output size H×W (equal to h×w: the maps as they are)
  bool map = true;                // the upsampled maps (N, H, W)
  const Tensor* guided = nullptr;  // (N, 3, H, W): Guided Grad-CAM = guided ⊙ upsampled map
  bool heat = false;              // heatmaps (N, H, W, 3 bytes)
  const DeviceArray<uint8_t>* pictures = nullptr;  // (N, H, W, 3 bytes): overlays on these pictures
  cam::Colormap colormap = cam::Colormap::Jet;
  float alpha = 0.5f;             // overlay = alpha·colour + (1 − alpha)·picture
};
struct Drawn {
  Tensor map, guided_gradcam;            // (N, H, W), (N, 3, H, W)
  DeviceArray<uint8_t> heat, overlay;    // (N, H, W, 3) RGB bytes, row-major
};
Drawn draw(const Tensor& maps, const Drawing& what);
DeviceArray<uint8_t> gradient_pictures(const Tensor& gradients);

// Each map's box (src/cam/component_steps.h has the steps), queued: (N, 4) x0, y0, x1, y1 on the device,
// x1 = −1 where the map has no box (zero everywhere). No host synchronisation (a graph may capture it).
DeviceArray<int32_t> localize(const Tensor& maps, float threshold = 0.15f);
// Those boxes on the host, as cam::Box (waits for them).
std::vector<cam::Box> boxes_to_host(const DeviceArray<int32_t>& boxes);

}  // namespace gcam::cuda
