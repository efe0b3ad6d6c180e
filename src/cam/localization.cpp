// localization.cpp — the localization evaluation (protocol and scores in gcam/localization.h).
#include "gcam/localization.h"

#include <algorithm>
#include <cmath>

#include "gcam/error.h"
#include "gcam/explain.h"
#include "gcam/train.h"

namespace gcam::eval {

namespace {

// Pixels two inclusive boxes share.
int64_t intersection_area(const cam::Box& a, const cam::Box& b) {
  if (a.empty || b.empty) return 0;
  const int64_t w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0) + 1, h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0) + 1;
  return w > 0 && h > 0 ? w * h : 0;
}

bool contains(const cam::Box& box, int64_t x, int64_t y) {
  return !box.empty && x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1;
}

}  // namespace

double iou(const cam::Box& a, const cam::Box& b) {
  if (a.empty || b.empty) return 0.0;
  const double inter = double(intersection_area(a, b));
  return inter / (double(a.area()) + double(b.area()) - inter);
}

std::pair<int64_t, int64_t> peak(const float* map, int64_t height, int64_t width) {
  const int64_t i = std::max_element(map, map + height * width) - map;
  return {i % width, i / width};
}

double mass_inside(const float* map, int64_t height, int64_t width, const cam::Box& box) {
  double inside = 0, total = 0;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      const double v = map[y * width + x];
      total += v;
      if (contains(box, x, y)) inside += v;
    }
  return total > 0 ? inside / total : 0.0;
}

std::vector<float> gradient_saliency(const Tensor& g) {
  check_ndim("gradient_saliency", "gradient", g, 3);
  const int64_t channels = g.size(0), plane = g.size(1) * g.size(2);
  std::vector<float> out(static_cast<size_t>(plane), 0.0f);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < plane; ++i) out[i] = std::max(out[i], std::fabs(g.data()[c * plane + i]));
  return out;
}

namespace {

// Scores one map of one canvas into `score`.
void score_map(MethodScore& score, const float* map, int64_t height, int64_t width, const cam::Box& truth, bool class_right) {
  ++score.images;
  if (*std::max_element(map, map + height * width) <= 0.0f) {  // nothing to point with
    ++score.all_zero;
    return;
  }
  const auto [px, py] = peak(map, height, width);
  score.pointing_hits += contains(truth, px, py);
  const cam::Box box = cam::localize(map, height, width, 0.15f);
  const double overlap = iou(box, truth);
  score.iou_sum += overlap;
  score.localized += class_right && overlap >= 0.5;
  score.mass_sum += mass_inside(map, height, width, truth);
}

// The end of the stage before `last`: for a ResNet the stage ("layer3" before "layer4", a layer whose
// kind is "stage of …"); for a VGG the ReLU just before the last max pool that precedes `last`.
std::string stage_before(const models::Model& model, const std::string& last) {
  std::string previous, relu;
  for (const models::LayerInfo& l : model.layers()) {
    if (l.path == last) break;
    if (l.kind.rfind("stage of", 0) == 0) previous = l.path;
    if (l.kind == "ReLU") relu = l.path;
    if (l.kind.rfind("MaxPool2d", 0) == 0 && l.path.rfind("features.", 0) == 0) previous = relu;
  }
  return previous;
}

}  // namespace

LocalizationReport evaluate_localization(models::Model& model, const data::ItemSet& test, const data::ItemSet& train,
                                         const data::CanvasOptions& canvas, const image::Preprocess& preprocess,
                                         const LocalizationOptions& o, void (*progress)(int64_t, int64_t)) {
  GCAM_CHECK(o.images > 0 && o.images <= test.count, "localization: ", o.images, " canvases of ", test.count, " items");
  GCAM_CHECK(o.batch > 0, "localization: batch ", o.batch);
  const std::string last = o.last_layer.empty() ? model.default_target_layer() : o.last_layer;
  const std::string previous = o.previous_layer.empty() ? stage_before(model, last) : o.previous_layer;
  if (!model.has_layer(last)) throw InputError("unknown layer '" + last + "'");
  if (previous.empty() || !model.has_layer(previous))
    throw InputError("no second-to-last stage before '" + last + "': name one (--previous-layer)");
  model.set_training(false);

  LocalizationReport report;
  report.methods = {{"Grad-CAM", last},        {"Grad-CAM", previous},   {"counterfactual Grad-CAM", last},
                    {"guided backprop", "input"}, {"Guided Grad-CAM", last}, {"centred box", "-"}};

  // The centred baseline's box: the training canvases' mean box size, in the middle of the canvas.
  const int64_t size = canvas.size, samples = std::min<int64_t>(2000, train.count);
  double mean_w = 0, mean_h = 0;
  for (int64_t i = 0; i < samples; ++i) {
    const cam::Box b = data::make_canvas(train, i, data::canvas_seed(data::kTrainingSeed, 1, i), canvas).box;
    mean_w += double(b.x1 - b.x0 + 1) / samples, mean_h += double(b.y1 - b.y0 + 1) / samples;
  }
  const int64_t cw = std::lround(mean_w), ch = std::lround(mean_h);
  const cam::Box centred{(size - cw) / 2, (size - ch) / 2, (size - cw) / 2 + cw - 1, (size - ch) / 2 + ch - 1, false};

  std::vector<int64_t> order(static_cast<size_t>(o.images));
  for (int64_t i = 0; i < o.images; ++i) order[i] = i;
  for (int64_t first = 0; first < o.images; first += o.batch) {
    const int64_t count = std::min(o.batch, o.images - first);
    const train::Batch batch = train::make_batch(test, order, first, count, data::kHeldOutSeed, 0, canvas, preprocess);
    std::vector<std::vector<int64_t>> targets(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) targets[i] = {batch.labels[i]};  // explain the true class
    cam::ExplainOptions at_last;
    at_last.layer = last;
    at_last.counterfactual = at_last.guided = true;
    const cam::BatchExplanation a = cam::explain(model, batch.input, targets, at_last);
    cam::ExplainOptions at_previous;
    at_previous.layer = previous;
    const cam::BatchExplanation b = cam::explain(model, batch.input, targets, at_previous);
    const int64_t classes = a.logits.size(1), H = batch.input.size(2), W = batch.input.size(3);
    for (int64_t i = 0; i < count; ++i) {
      const float* logits = a.logits.data() + i * classes;
      const bool right = std::max_element(logits, logits + classes) - logits == batch.labels[i];
      const cam::Box& truth = batch.boxes[i];
      ++report.images;
      report.correct += right;
      report.box_area += double(truth.area()) / double(H * W);
      const cam::Explanation& e = a.images[i][0];
      score_map(report.methods[0], e.map.data(), H, W, truth, right);
      score_map(report.methods[1], b.images[i][0].map.data(), H, W, truth, right);
      score_map(report.methods[2], e.counterfactual.data(), H, W, truth, right);
      score_map(report.methods[3], gradient_saliency(e.guided).data(), H, W, truth, right);
      score_map(report.methods[4], gradient_saliency(e.guided_gradcam).data(), H, W, truth, right);
      // The centred box: its centre pixel as the peak, the box as the localization, and as its "map" a
      // uniform one over the box (so its mass in the true box is the share of it inside).
      MethodScore& baseline = report.methods[5];
      ++baseline.images;
      baseline.pointing_hits += contains(truth, size / 2, size / 2);
      const double overlap = iou(centred, truth);
      baseline.iou_sum += overlap;
      baseline.localized += right && overlap >= 0.5;
      baseline.mass_sum += double(intersection_area(centred, truth)) / double(centred.area());
    }
    if (progress) progress(first + count, o.images);
  }
  report.box_area /= std::max<int64_t>(1, report.images);
  return report;
}

}  // namespace gcam::eval
