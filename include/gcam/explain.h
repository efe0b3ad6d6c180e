// gcam/explain.h — one explanation pass over a batch: forward once, then the short backward passes.
//
//   Grad-CAM (and its counterfactual): a targeted query d(y^c)/d(A) at the target layer: the backward
//     pass runs only the nodes between the layer and the logits, and no weight gradient.
//   Guided backprop / deconvnet: d(y^c)/d(x) under the guided / deconvnet ReLU rule: down to the input,
//     still no weight gradient. Guided Grad-CAM multiplies it by the upsampled Grad-CAM map.
// Several targets per image (top-k) reuse the one recorded forward pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gcam/autograd.h"
#include "gcam/cam.h"
#include "gcam/colormap.h"
#include "gcam/image.h"
#include "gcam/models.h"

namespace gcam::cam {

// The pictures an explanation pass makes, where its maps and gradients are (on the GPU a launch per
// kind for the whole batch, then only the pictures' bytes come back): Grad-CAM's heatmap and overlay on
// the image as the network saw it, the counterfactual's heatmap, and the gradients (guided backprop,
// Guided Grad-CAM, deconvnet) as gcam/colormap.h's gradient pictures — each for what is asked.
struct Pictures {
  const std::vector<image::Image>* images = nullptr;  // one per image, at the input size (H×W RGB); null: none
  Colormap colormap = Colormap::Jet;
  float alpha = 0.5f;  // overlay = alpha·heatmap + (1 − alpha)·image
};

struct ExplainOptions {
  std::string layer;            // a torchvision path; empty: the model's default target
  bool gradcam = true;          // Grad-CAM (needed by Guided Grad-CAM too)
  bool counterfactual = false;  // counterfactual Grad-CAM
  bool guided = false;          // guided backprop (and Guided Grad-CAM when gradcam is on)
  bool deconvnet = false;       // deconvnet saliency
  Pictures pictures;            // every picture of what is asked, if given pictures
  // Where the pass runs on the GPU: whether its tensors come back to the host. false leaves them on the
  // device (Explanation's map, raw_map and counterfactual, or guided, guided_gradcam and deconvnet, are
  // then GPU tensors, and alpha is empty); the boxes, classes, scores and pictures come back either way.
  bool maps_to_host = true;
  bool gradients_to_host = true;
};

struct Explanation {
  int64_t image = 0;       // index in the batch
  int64_t class_index = 0;
  float score = 0.0f;      // the logit y^c
  std::vector<float> alpha;  // α_k, K values
  Tensor raw_map;          // (h, w) ReLU(Σ α_k A_k), before normalisation
  Tensor map;              // (H, W) normalised and upsampled to the input size
  bool map_all_zero = false;
  Box box;                 // on `map`, the paper's 15%-of-max threshold (found where the map is)
  image::Image heatmap, overlay;  // `map` coloured, and blended over the picture (H×W RGB), if asked
  Tensor counterfactual;   // (H, W), if asked
  bool counterfactual_all_zero = false;
  image::Image counterfactual_heatmap;  // `counterfactual` coloured, with pictures
  Tensor guided;           // (3, H, W) ∂y^c/∂x under the guided rule, if asked
  Tensor guided_gradcam;   // (3, H, W) guided ⊙ map
  Tensor deconvnet;        // (3, H, W), if asked
  image::Image guided_picture, guided_gradcam_picture, deconvnet_picture;  // with pictures (H×W RGB)
};

struct BatchExplanation {
  Tensor logits;         // (N, classes)
  Tensor probabilities;  // softmax of the logits
  std::vector<std::vector<Explanation>> images;  // [n][r]: image n, its r-th target
  double forward_ms = 0, gradcam_ms = 0, guided_ms = 0, maps_ms = 0;
  BackwardStats gradcam_stats;  // what the Grad-CAM backward pass ran (for --trace)
  struct LayerTrace {
    std::string path;
    Shape shape;  // the layer's output
    double ms;    // time since the previous layer's output (forward)
  };
  std::vector<LayerTrace> layers;  // every layer of the forward pass, in order
};

// The heatmap and overlay of each map (N, H, W; on the CPU or the GPU, coloured there) on
// pictures.images[n], into explanations[n]. InputError when the pictures do not match the maps.
void colour_maps(const Tensor& maps, const Pictures& pictures, const std::vector<Explanation*>& explanations);
// Each map (N, H, W) as a heatmap, and each gradient (N, 3, H, W) as a gradient picture
// (gcam/colormap.h), made on the device the tensor is on.
std::vector<image::Image> heatmaps(const Tensor& maps, Colormap colormap);
std::vector<image::Image> gradient_pictures(const Tensor& gradients);

// targets[n] lists image n's classes (all images the same count); a negative entry r means "the class
// ranked r-th", e.g. −1 the top-1 class. InputError for an unknown layer or an out-of-range class.
BatchExplanation explain(models::Model& model, const Tensor& input, const std::vector<std::vector<int64_t>>& targets,
                         const ExplainOptions& options);

}  // namespace gcam::cam
