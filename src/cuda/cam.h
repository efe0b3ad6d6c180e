// cuda/cam.h — Grad-CAM's own steps on the GPU, fused (internal). The formulas are gcam/cam.h's; the CPU
// functions there are the reference these are tested against.
//
//   one_hot_seed      logits → the backward pass's seed, the class chosen on the device (no host round trip)
//   gradcam_maps      A, ∂y/∂A (N, K, h, w)  →  α (N, K), raw ReLU(Σ_k α_k A_k) (N, h, w), the per-image
//                     min-max normalised map (N, h, w), and which images' maps were zero everywhere —
//                     one launch, a cluster of blocks or blocks of channels per image (counterfactual: α negated).
//   upsample_product  normalised maps (N, h, w) → bilinear, half-pixel centres (N, H, W); with a guided
//                     gradient (N, 3, H, W) also Guided Grad-CAM = guided ⊙ upsampled map — one launch.
//   render            upsampled maps (N, H, W) → colour heatmaps and overlays on the images (N, H, W, 3)
//                     bytes, gcam/colormap.h's formulas — one launch.
#pragma once

#include <cstdint>
#include <vector>

#include "device_array.h"
#include "gcam/colormap.h"
#include "gcam/tensor.h"

namespace gcam::cuda {

struct GradcamMaps {
  Tensor alpha, raw, map;       // (N, K), (N, h, w), (N, h, w), on the device
  Tensor zero_flags;            // (N): 1 where image n's map was zero everywhere, on the device
  std::vector<bool> all_zero;   // the same flags on the host, unless the copy was skipped
};
// copy_flags = false leaves all_zero empty (no host synchronisation: what a graph capture needs).
// slice_channels = 0 chooses the kernel: on a GPU with thread-block clusters (sm_90+), a cluster of 8
// blocks per image exchanging their parts through distributed shared memory, where K splits evenly and
// each block's share fits its stage (ResNet-50's layer4, VGG-16's features.29); otherwise blocks of as
// many channels as fit 16 KB of each tensor in shared memory (at most 1024; 16 for larger planes) that
// hand their parts over through global memory. slice_channels > 0 forces the latter with that many
// channels per block, and slice_channels < 0 forces it with its own cut (tests and benchmarks compare
// the kernels and the cuts).
GradcamMaps gradcam_maps(const Tensor& activations, const Tensor& gradients, bool counterfactual,
                         bool copy_flags = true, int64_t slice_channels = 0);
// Whether gradcam_maps takes the clustered kernel for activations of this shape (N, K, h, w).
bool gradcam_maps_clustered(const Shape& activations, int64_t slice_channels = 0);

// The backward seed for each image's class, on the device: seed (N, classes) one-hot at class[n], or at
// the top-1 logit (first of equal maxima, like the CPU) where class[n] < 0; the class used goes to chosen[n].
Tensor one_hot_seed(const Tensor& logits, const DeviceArray<int32_t>& classes, DeviceArray<int32_t>& chosen);

struct Upsampled {
  Tensor map;             // (N, H, W)
  Tensor guided_gradcam;  // (N, 3, H, W), when a guided gradient was given
};
Upsampled upsample_product(const Tensor& maps, int64_t height, int64_t width, const Tensor& guided);

// images: N pictures of H×W×3 bytes (RGB, row-major), on the device. heat and overlay likewise.
struct Rendered {
  DeviceArray<uint8_t> heat, overlay;
};
Rendered render(const Tensor& upsampled_maps, const DeviceArray<uint8_t>& images, cam::Colormap colormap, float alpha);

}  // namespace gcam::cuda
