// explain.cpp — the explanation pass (see gcam/explain.h): one recorded forward pass, then per target
// round one targeted backward query to the layer and, if asked, guided and deconvnet passes to the
// input; what each round makes from them is src/cam/round_outputs.h's.
#include "gcam/explain.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "pictures.h"
#include "round_outputs.h"
#include "gcam/error.h"
#include "gcam/ops/softmax.h"

namespace gcam::cam {

namespace {

double since_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Tensor to_host(const Tensor& t) { return t.device() == Device::CPU ? t : t.to(Device::CPU); }

}  // namespace

BatchExplanation explain(models::Model& model, const Tensor& input, const std::vector<std::vector<int64_t>>& targets,
                         const ExplainOptions& options) {
  check_ndim("explain", "input", input, 4);
  const int64_t N = input.size(0), H = input.size(2), W = input.size(3);
  GCAM_CHECK(static_cast<int64_t>(targets.size()) == N, "explain: ", targets.size(), " target lists for ", N, " images");
  const size_t rounds = targets.empty() ? 0 : targets[0].size();
  for (const auto& t : targets) GCAM_CHECK(t.size() == rounds && rounds > 0, "explain: every image needs the same number of targets");
  GCAM_CHECK(!options.pictures.images || static_cast<int64_t>(options.pictures.images->size()) == N, "explain: ",
             options.pictures.images ? options.pictures.images->size() : 0, " pictures for ", N, " images");
  const std::string layer = options.layer.empty() ? model.default_target_layer() : options.layer;
  GCAM_CHECK(model.has_layer(layer), "unknown layer '", layer, "' for ", model.architecture(),
             " (list them with --list-layers)");

  BatchExplanation result;
  Tape tape;
  // Keep only the target layer's activation; a Grad-CAM-only pass also stores no node before it.
  tape.keep_taps_only({layer});
  if (!options.guided && !options.deconvnet) tape.record_from(layer);
  auto start = std::chrono::steady_clock::now();
  const Tensor x = tape.watch(input);
  // On the GPU the whole forward and backward pass stays on the device, and so does the work on the maps
  // and gradients; the logits come back here, and the rest as options.*_to_host and the pictures ask.
  const Tensor logits = model.forward(x);  // (N, classes), on the input's device
  result.logits = to_host(logits);
  result.forward_ms = since_ms(start);
  const std::vector<std::string> names = tape.tap_names();
  for (size_t i = 0; i < names.size(); ++i) {
    const double at = tape.tap_times_ms()[i], before = i ? tape.tap_times_ms()[i - 1] : 0.0;
    result.layers.push_back({names[i], tape.tap_shapes()[i], at - before});
  }
  const Tensor A = tape.tapped(layer);  // (N, K, h, w), on the input's device
  GCAM_CHECK(A.ndim() == 4, "layer '", layer, "' is not a convolutional feature map (its output is ", A.shape().str(),
             "); choose a layer before the classifier");
  result.probabilities = ops::softmax(result.logits.detach());
  const int64_t classes = result.logits.size(1);

  // The class of each (image, round): an index, or a rank among the logits (−1: top-1).
  std::vector<std::vector<int64_t>> chosen(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    const float* row = result.logits.data() + n * classes;
    std::vector<int64_t> order(static_cast<size_t>(classes));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    for (int64_t c : targets[n]) {
      if (c < 0) {
        GCAM_CHECK(-c <= classes, "explain: rank ", -c, " of ", classes, " classes");
        chosen[n].push_back(order[-c - 1]);
      } else {
        GCAM_CHECK(c < classes, "explain: class ", c, " is out of range for ", classes, " classes");
        chosen[n].push_back(c);
      }
    }
  }

  // On the GPU the pictures are uploaded once, for every round's drawing.
  const cuda::DeviceArray<uint8_t> pictures_on_device =
      options.pictures.images && options.gradcam && input.device() == Device::CUDA
          ? upload_pictures(options.pictures, N, H, W)
          : cuda::DeviceArray<uint8_t>();
  result.images.assign(static_cast<size_t>(N), std::vector<Explanation>(rounds));
  for (size_t r = 0; r < rounds; ++r) {
    Tensor seed = Tensor::zeros(result.logits.shape());  // one-hot: d(y^c)/d(·) for each image's class
    for (int64_t n = 0; n < N; ++n) seed.data()[n * classes + chosen[n][r]] = 1.0f;
    if (logits.device() != Device::CPU) seed = seed.to(logits.device());
    for (int64_t n = 0; n < N; ++n) {
      Explanation& e = result.images[n][r];
      e.image = n;
      e.class_index = chosen[n][r];
      e.score = result.logits.data()[n * classes + e.class_index];
    }
    std::vector<Explanation*> round(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) round[n] = &result.images[n][r];

    // The backward passes, none with a weight gradient: Grad-CAM's stops at the layer; guided backprop's
    // and deconvnet's go to the input under their ReLU rules.
    Tensor dA, guided, deconvnet;  // (N, K, h, w), (N, 3, H, W), (N, 3, H, W), on the pass's device
    if (options.gradcam || options.counterfactual) {
      start = std::chrono::steady_clock::now();
      dA = tape.grad(logits, seed, {A})[0];
      result.gradcam_stats = tape.stats();
      result.gradcam_ms += since_ms(start);
    }
    start = std::chrono::steady_clock::now();
    for (ReluRule rule : {ReluRule::Guided, ReluRule::Deconvnet}) {
      if (rule == ReluRule::Guided ? !options.guided : !options.deconvnet) continue;
      BackwardOptions backward;
      backward.relu_rule = rule;
      (rule == ReluRule::Guided ? guided : deconvnet) = tape.grad(logits, seed, {x}, backward)[0];
    }
    result.guided_ms += since_ms(start);

    // What the round makes from them, where they are (src/cam/round_outputs.h). Guided Grad-CAM comes
    // with the Grad-CAM map: on the GPU from the same launch that upsamples and colours it.
    start = std::chrono::steady_clock::now();
    Tensor guided_gradcam;
    if (options.gradcam) guided_gradcam = gradcam_outputs(A, dA, guided, options, H, W, pictures_on_device, round);
    if (options.counterfactual) counterfactual_outputs(A, dA, options, H, W, round);
    result.maps_ms += since_ms(start);
    start = std::chrono::steady_clock::now();
    gradient_outputs(guided, guided_gradcam, deconvnet, options, round);
    result.guided_ms += since_ms(start);
  }
  return result;
}

}  // namespace gcam::cam
