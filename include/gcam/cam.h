// gcam/cam.h — Grad-CAM and its relatives (Selvaraju et al., arXiv 1610.02391), as plain functions.
//
// For image x, class c, target-layer activations A (K×h×w) and the pre-softmax score y^c:
//   channel weights   α_k = (1/hw) Σ_ij ∂y^c/∂A_kij
//   Grad-CAM          L = ReLU(Σ_k α_k A_k)                        (h×w)
//   counterfactual    the same with −∂y^c/∂A: regions whose removal would raise confidence in c
//   normalisation     (L − min L) / (max L − min L + ε) per image; a map that is zero everywhere stays
//                     zero (and is reported as such), never NaN
//   upsampling        bilinear with half-pixel centres (OpenCV INTER_LINEAR, PyTorch align_corners=False)
//   guided backprop   ∂y^c/∂x with the guided ReLU rule; Guided Grad-CAM = guided ⊙ upsampled L
//   localisation      threshold the upsampled map at 15% of its maximum, and take the bounding box of
//                     the largest 8-connected component (the paper's weakly-supervised protocol)
#pragma once

#include <cstdint>
#include <vector>

#include "gcam/tensor.h"

namespace gcam::cam {

constexpr float kNormalizeEps = 1e-7f;

// α (N, K) from ∂y/∂A (N, K, h, w).
Tensor channel_weights(const Tensor& grad_activations);
// ReLU(Σ_k α_k A_k): (N, h, w) from A (N, K, h, w) and α (N, K). counterfactual negates α.
Tensor weighted_map(const Tensor& activations, const Tensor& alpha, bool counterfactual = false);
// Per-image min-max normalisation of maps (N, h, w), in place; all_zero[n] says image n's map was zero
// everywhere (its normalised map is then all zeros).
void normalize_maps(Tensor& maps, std::vector<bool>* all_zero);
// Bilinear resize of maps (N, h, w) or images (N, C, h, w) to (…, H, W), half-pixel centres.
Tensor upsample_bilinear(const Tensor& maps, int64_t height, int64_t width);

struct Box {
  int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // inclusive pixel bounds; empty when area() == 0
  bool empty = true;
  int64_t area() const { return empty ? 0 : (x1 - x0 + 1) * (y1 - y0 + 1); }
};
// The paper's box for one map (H×W, row-major): pixels ≥ threshold·max, largest 8-connected component.
Box localize(const float* map, int64_t height, int64_t width, float threshold = 0.15f);

}  // namespace gcam::cam
