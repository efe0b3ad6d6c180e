// gcam/localization.h — how well explanations find the object: the paper's weakly-supervised
// localization protocol and the pointing game, on held-out canvases whose true boxes are known.
//
// For each canvas, each method gives a map at input resolution (for the true class):
//   Grad-CAM            at the last and at the second-to-last stage
//   counterfactual      Grad-CAM with −∂y/∂A (should point away from the object)
//   guided backprop     max over colour channels of |∂y/∂x| (guided rule)
//   Guided Grad-CAM     the same of guided ⊙ Grad-CAM (last stage)
//   centred box         no map: a box of the training canvases' mean size in the middle, and the centre
//                       pixel as its "peak" — the baseline a method must beat
// and is scored by
//   pointing game       the map's maximum lies inside the true box (Zhang et al. 2016; no tolerance)
//   localization error  the paper's: box = largest 8-connected component of the map ≥ 15% of its
//                       maximum; correct when the predicted class is right and IoU(box, true) ≥ 0.5
//   mass in box         Σ map inside the true box / Σ map: where the map's weight lies
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gcam/cam.h"
#include "gcam/data.h"
#include "gcam/image.h"
#include "gcam/models.h"

namespace gcam::eval {

// Intersection over union of two inclusive pixel boxes (0 when either is empty).
double iou(const cam::Box& a, const cam::Box& b);
// The position of a map's maximum (the first one in row-major order): (x, y).
std::pair<int64_t, int64_t> peak(const float* map, int64_t height, int64_t width);
// Σ map inside the box / Σ map (0 for an all-zero map). The map is non-negative.
double mass_inside(const float* map, int64_t height, int64_t width, const cam::Box& box);
// A gradient picture (3, H, W) as a saliency map (H, W): max over channels of |g|.
std::vector<float> gradient_saliency(const Tensor& gradient);

struct MethodScore {
  std::string method;  // "Grad-CAM", "counterfactual Grad-CAM", …
  std::string layer;   // where its map comes from ("layer4", "input", "—")
  int64_t images = 0;
  int64_t pointing_hits = 0;  // peak inside the true box
  int64_t localized = 0;      // class right and IoU ≥ 0.5
  int64_t all_zero = 0;       // maps with no positive value (no peak, no box: they score a miss)
  double iou_sum = 0, mass_sum = 0;

  double pointing() const { return images ? double(pointing_hits) / images : 0; }
  double localization_error() const { return images ? 1.0 - double(localized) / images : 0; }
  double mean_iou() const { return images ? iou_sum / images : 0; }
  double mass_in_box() const { return images ? mass_sum / images : 0; }
};

struct LocalizationReport {
  int64_t images = 0, correct = 0;  // classification: top-1 right
  double box_area = 0;              // mean true-box area / canvas area
  std::vector<MethodScore> methods;
  double accuracy() const { return images ? double(correct) / images : 0; }
};

struct LocalizationOptions {
  int64_t images = 10000;      // held-out canvases 0 … images − 1 (test split, kHeldOutSeed)
  int64_t batch = 50;
  std::string last_layer;      // default: the model's default target ("layer4")
  std::string previous_layer;  // default: the stage before it ("layer3")
};

// Runs every method over the held-out canvases. `train` gives the centred baseline its box size
// (the mean over 2000 training canvases). Calls progress(done, total) after each batch, if given.
LocalizationReport evaluate_localization(models::Model& model, const data::ItemSet& test, const data::ItemSet& train,
                                         const data::CanvasOptions& canvas, const image::Preprocess& preprocess,
                                         const LocalizationOptions& options,
                                         void (*progress)(int64_t done, int64_t total) = nullptr);

}  // namespace gcam::eval
