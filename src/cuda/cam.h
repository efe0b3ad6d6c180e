// cuda/cam.h — Grad-CAM's own steps on the GPU, fused (internal). The formulas are gcam/cam.h's; the CPU
// functions there are the reference these are tested against.
//
//   one_hot_seed      logits → the backward pass's seed, the class chosen on the device (no host round trip)
//   gradcam_maps      A, ∂y/∂A (N, K, h, w)  →  α (N, K), raw ReLU(Σ_k α_k A_k) (N, h, w), the per-image
//                     min-max normalised map (N, h, w), and which images' maps were zero everywhere —
//                     one launch, several blocks per image (counterfactual: α negated).
//   upsample_product  normalised maps (N, h, w) → bilinear, half-pixel centres (N, H, W); with a guided
//                     gradient (N, 3, H, W) also Guided Grad-CAM = guided ⊙ upsampled map — one launch.
//   render            upsampled maps (N, H, W) → colour heatmaps and overlays on the images (N, H, W, 3)
//                     bytes, gcam/colormap.h's formulas — one launch.
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
// Both hand the blocks' parts of an image over through global memory. Auto takes Streamed where it
// fits and Sliced elsewhere; Streamed asked for where it does not fit falls back to Sliced.
// channels_per_block > 0 forces that cut of the channels into blocks, 0 leaves each kernel its own.
// Tests and benchmarks compare the kernels and cuts.
enum class Reduction { Auto, Streamed, Sliced };
struct ReductionOptions {
  Reduction kernel = Reduction::Auto;
  int64_t channels_per_block = 0;
};
// copy_flags = false leaves all_zero empty (no host synchronisation: what a graph capture needs).
GradcamMaps gradcam_maps(const Tensor& activations, const Tensor& gradients, bool counterfactual,
                         bool copy_flags = true, ReductionOptions how = {});
// The kernel gradcam_maps runs for activations of this shape (N, K, h, w): never Auto.
Reduction gradcam_reduction_for(const Shape& activations, ReductionOptions how = {});

// The backward seed for each image's class, on the device: seed (N, classes) one-hot at class[n], or at
// the top-1 logit (first of equal maxima, like the CPU) where class[n] < 0; the class used goes to chosen[n].
Tensor one_hot_seed(const Tensor& logits, const DeviceArray<int32_t>& classes, DeviceArray<int32_t>& chosen);

struct Upsampled {
  Tensor map;             // (N, H, W)
  Tensor guided_gradcam;  // (N, 3, H, W), when a guided gradient was given
};
Upsampled upsample_product(const Tensor& maps, int64_t height, int64_t width, const Tensor& guided);

// images: N pictures of H×W×3 bytes (RGB, row-major), on the device. heat and overlay likewise. With no
// images (an empty array) only the heatmaps are made, and overlay is empty.
struct Rendered {
  DeviceArray<uint8_t> heat, overlay;
};
Rendered render(const Tensor& upsampled_maps, const DeviceArray<uint8_t>& images, cam::Colormap colormap, float alpha);
DeviceArray<uint8_t> gradient_pictures(const Tensor& gradients);

// Each map's box (src/cam/component_steps.h has the steps), queued: (N, 4) x0, y0, x1, y1 on the device,
// x1 = −1 where the map has no box (zero everywhere). No host synchronisation (a graph may capture it).
DeviceArray<int32_t> localize(const Tensor& maps, float threshold = 0.15f);
// Those boxes on the host, as cam::Box (waits for them).
std::vector<cam::Box> boxes_to_host(const DeviceArray<int32_t>& boxes);

}  // namespace gcam::cuda
