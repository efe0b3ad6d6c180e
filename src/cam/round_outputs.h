// round_outputs.h — what one round of an explanation pass makes from its tensors, on the device they are
// on (internal to explain.cpp). A round: one target class per image, the backward passes done.
//
//   Grad-CAM        A, ∂y/∂A (N, K, h, w) → α, the raw map, the normalised map at the input size, its box;
//                   with pictures the heatmap and overlay; with a guided gradient Guided Grad-CAM.
//                   On the GPU: the fused reduction, then one launch that upsamples, multiplies, colours
//                   and blends (src/cuda/cam.h: draw), then the boxes (localize).
//   counterfactual  the same with −α: the map, and with pictures its heatmap
//   gradients       guided backprop, Guided Grad-CAM and deconvnet, and with pictures their pictures
//
// Only what options.*_to_host and the pictures ask for leaves the GPU.
#pragma once

#include <cstdint>
#include <vector>

#include "../cuda/device_array.h"
#include "gcam/explain.h"

namespace gcam::cam {

// Fills round[n]'s Grad-CAM fields; returns Guided Grad-CAM (N, 3, H, W) when guided is defined. On the
// GPU, with pictures, pictures_on_device holds them (upload_pictures: one upload for every round).
Tensor gradcam_outputs(const Tensor& A, const Tensor& dA, const Tensor& guided, const ExplainOptions& options,
                       int64_t height, int64_t width, const cuda::DeviceArray<uint8_t>& pictures_on_device,
                       const std::vector<Explanation*>& round);
void counterfactual_outputs(const Tensor& A, const Tensor& dA, const ExplainOptions& options, int64_t height,
                            int64_t width, const std::vector<Explanation*>& round);
// Any of the three may be undefined (not asked).
void gradient_outputs(const Tensor& guided, const Tensor& guided_gradcam, const Tensor& deconvnet,
                      const ExplainOptions& options, const std::vector<Explanation*>& round);

}  // namespace gcam::cam
