// gcam/gradcam_graph.h — Grad-CAM on the GPU recorded once as a CUDA graph and replayed per batch.
//
// For a model on the device, a batch size and an input size, the whole Grad-CAM step — the forward
// pass, each image's class chosen on the device (top-1 unless given) as the backward seed, the short
// backward pass to the target layer, the fused reduction, the upsampling (drawing the heatmaps and
// overlays in the same launch, if asked) and the boxes (gcam/cam.h: localize) — is captured once and then
// replayed with a single launch per batch, so that small batches are not bound by the cost of launching
// hundreds of kernels one by one. With GraphMethods::guided the step also runs guided backprop down to
// the input from the same seed, and the upsampling launch multiplies the map into it (Guided Grad-CAM):
// explain's default methods in one replay. Each run copies the batch (and the pictures to draw on) into
// the graph's fixed buffers and brings back the logits, the classes, the boxes, the pictures drawn and,
// if asked, the maps (N, H, W) and the guided gradients (N, 3, H, W); nothing else crosses to the host.
//
//   model->to(Device::CUDA);
//   cam::GradcamGraph graph(*model, /*batch=*/1, 224, 224);      // captures (after one warm-up step)
//   cam::GradcamGraph::Result r = graph.run(input);              // replays
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gcam/explain.h"
#include "gcam/models.h"
#include "gcam/tensor.h"

namespace gcam::cam {

// Whether the graph also draws each map's heatmap and overlay (in the launch that upsamples the maps),
// and in which colours; its pictures are then copied into a fixed buffer before each replay.
struct GraphPictures {
  bool draw = false;
  Colormap colormap = Colormap::Jet;
  float alpha = 0.5f;
};

// What the graph explains besides Grad-CAM: with guided, guided backprop (∂y^c/∂x under the guided ReLU
// rule, the whole backward pass to the input, no weight gradient) and Guided Grad-CAM (guided ⊙ the
// map), and their pictures when the graph draws.
struct GraphMethods {
  bool guided = false;
};

class GradcamGraph {
 public:
  // layer: a torchvision path; empty for the model's default target. The model must be on the GPU and
  // stay there, unchanged, while the graph lives (the graph reads its weights where they are).
  GradcamGraph(models::Model& model, int64_t batch, int64_t height, int64_t width, const std::string& layer = "",
               GraphPictures pictures = {}, GraphMethods methods = {});
  ~GradcamGraph();
  GradcamGraph(const GradcamGraph&) = delete;
  GradcamGraph& operator=(const GradcamGraph&) = delete;

  struct Result {
    Tensor logits;                 // (N, classes), host
    Tensor maps;                   // (N, H, W), normalised Grad-CAM maps at the input size, host (if asked)
    std::vector<int64_t> classes;  // the class each map explains
    std::vector<bool> all_zero;    // maps that were zero everywhere (then all zeros, never NaN)
    std::vector<Box> boxes;        // each map's box
    Tensor guided;                 // (N, 3, H, W) guided backprop, host (GraphMethods::guided, if asked)
    Tensor guided_gradcam;         // (N, 3, H, W) Guided Grad-CAM, host (likewise)
  };
  // input (N, 3, H, W) on either device; classes: empty for every image's top-1, else one per image
  // (a negative entry: that image's top-1). maps_to_host = false leaves maps undefined, and
  // gradients_to_host = false the guided gradients.
  Result run(const Tensor& input, const std::vector<int64_t>& classes = {}, bool maps_to_host = true,
             bool gradients_to_host = true);
  // The same as a BatchExplanation, as cam::explain gives it for Grad-CAM (and with GraphMethods::guided,
  // guided backprop and Guided Grad-CAM) with one target per image: α and the raw map are not brought
  // back, nor the maps unless maps_to_host, nor the guided gradients unless gradients_to_host; the
  // replay's whole time, forward pass and guided backprop included, is gradcam_ms. With pictures: each
  // map's heatmap and overlay, and the guided gradients' pictures, drawn inside the graph when it was
  // captured to draw in the pictures' colormap and alpha, else made on the device after the replay.
  BatchExplanation explain(const Tensor& input, const std::vector<int64_t>& classes = {},
                           const Pictures& pictures = {}, bool maps_to_host = true, bool gradients_to_host = true);

 private:
  void replay(const Tensor& input, const std::vector<int64_t>& classes, const Pictures* pictures);
  Result collect(bool maps_to_host, bool gradients_to_host);
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace gcam::cam
