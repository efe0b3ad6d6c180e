// explain.cpp — the explanation pass (see gcam/explain.h): one recorded forward pass, then per target
// round one targeted backward query to the layer and, if asked, one guided pass to the input.
#include "gcam/explain.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "../cuda/cam.h"
#include "gcam/error.h"
#include "gcam/ops/softmax.h"

namespace gcam::cam {

namespace {

double since_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Tensor to_host_copy(const Tensor& t) { return t.device() == Device::CPU ? t : t.to(Device::CPU); }

// Normalised at feature resolution, then upsampled to the input size (the convention most users know).
Tensor normalized_upsampled(const Tensor& raw, int64_t height, int64_t width, std::vector<bool>* all_zero) {
  Tensor normalized = raw.clone();
  normalize_maps(normalized, all_zero);
  return upsample_bilinear(normalized, height, width);
}

// One round's Grad-CAM (or counterfactual) maps: α (N, K), the raw map (N, h, w) and the normalised,
// upsampled one (N, H, W). On the GPU the reduction is one fused launch and the upsampling another
// (src/cuda/cam.h); the normalised map at feature resolution stays on the device for Guided Grad-CAM's
// product and the upsampled one for the boxes and pictures, and α, raw and upsampled come back to the
// host only when to_host (else raw and upsampled are those device tensors and α is undefined).
struct RoundMaps {
  Tensor alpha, raw, upsampled;
  std::vector<bool> all_zero;
  Tensor normalized_on_device, upsampled_on_device;  // (N, h, w), (N, H, W); undefined on the CPU
};

RoundMaps round_maps(const Tensor& A, const Tensor& dA, bool counterfactual, int64_t height, int64_t width,
                     bool to_host) {
  RoundMaps m;
  if (dA.device() == Device::CUDA) {
    cuda::GradcamMaps g = cuda::gradcam_maps(A, dA, counterfactual);
    m.upsampled_on_device = cuda::upsample_product(g.map, height, width, Tensor()).map;
    m.normalized_on_device = g.map;
    m.all_zero = g.all_zero;
    m.raw = to_host ? g.raw.to(Device::CPU) : g.raw;
    m.upsampled = to_host ? m.upsampled_on_device.to(Device::CPU) : m.upsampled_on_device;
    if (to_host) m.alpha = g.alpha.to(Device::CPU);
    return m;
  }
  m.alpha = channel_weights(dA);
  m.raw = weighted_map(A, m.alpha, counterfactual);
  m.upsampled = normalized_upsampled(m.raw, height, width, &m.all_zero);
  return m;
}

// The tensor where it was made (one that is already on the host, or undefined, stays as it is).
Tensor where_wanted(const Tensor& t, bool to_host) { return to_host && t.defined() ? to_host_copy(t) : t; }

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
  result.logits = to_host_copy(logits);
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
  const int64_t classes = result.logits.size(1), K = A.size(1);

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
    Tensor map;                   // (N, H, W), on the host (or on the GPU when the maps stay there)
    Tensor normalized_on_device;  // (N, h, w), for Guided Grad-CAM's product on the GPU
    const bool pictures = options.pictures.images != nullptr;
    if (options.gradcam || options.counterfactual) {
      start = std::chrono::steady_clock::now();
      const Tensor dA = tape.grad(logits, seed, {A})[0];  // stops at the layer
      result.gradcam_stats = tape.stats();
      result.gradcam_ms += since_ms(start);
      start = std::chrono::steady_clock::now();
      if (options.gradcam) {
        RoundMaps m = round_maps(A, dA, false, H, W, options.maps_to_host);
        map = m.upsampled;
        normalized_on_device = m.normalized_on_device;
        // On the GPU the boxes are found there (src/cuda/cam.h: localize); only they come back.
        std::vector<Box> boxes;
        if (m.upsampled_on_device.defined()) boxes = cuda::boxes_to_host(cuda::localize(m.upsampled_on_device));
        // Images are independent: their copies and boxes are made side by side.
#pragma omp parallel for schedule(static) if (N > 1)
        for (int64_t n = 0; n < N; ++n) {
          Explanation& e = result.images[n][r];
          if (m.alpha.defined()) e.alpha.assign(m.alpha.data() + n * K, m.alpha.data() + (n + 1) * K);
          e.raw_map = m.raw.select(n);
          e.map = map.select(n);
          e.map_all_zero = m.all_zero[n];
          e.box = boxes.empty() ? localize(e.map.data(), H, W) : boxes[n];
        }
        if (pictures) {  // coloured where the maps are
          std::vector<Explanation*> round(static_cast<size_t>(N));
          for (int64_t n = 0; n < N; ++n) round[n] = &result.images[n][r];
          colour_maps(m.upsampled_on_device.defined() ? m.upsampled_on_device : map, options.pictures, round);
        }
      }
      if (options.counterfactual) {
        const RoundMaps m = round_maps(A, dA, true, H, W, options.maps_to_host);
        std::vector<image::Image> heat;
        if (pictures)
          heat = heatmaps(m.upsampled_on_device.defined() ? m.upsampled_on_device : m.upsampled, options.pictures.colormap);
        for (int64_t n = 0; n < N; ++n) {
          Explanation& e = result.images[n][r];
          e.counterfactual = m.upsampled.select(n);
          e.counterfactual_all_zero = m.all_zero[n];
          if (pictures) e.counterfactual_heatmap = std::move(heat[n]);
        }
      }
      result.maps_ms += since_ms(start);
    }
    for (ReluRule rule : {ReluRule::Guided, ReluRule::Deconvnet}) {
      if (rule == ReluRule::Guided ? !options.guided : !options.deconvnet) continue;
      start = std::chrono::steady_clock::now();
      BackwardOptions backward;
      backward.relu_rule = rule;
      const Tensor dx_made = tape.grad(logits, seed, {x}, backward)[0];  // (N, 3, H, W), no weight gradient
      // Guided Grad-CAM: guided ⊙ upsampled map, on every colour channel (on the GPU fused with the upsampling).
      Tensor guided_gradcam_made;
      if (rule == ReluRule::Guided && normalized_on_device.defined())
        guided_gradcam_made = cuda::upsample_product(normalized_on_device, H, W, dx_made).guided_gradcam;
      const Tensor dx = where_wanted(dx_made, options.gradients_to_host);
      const Tensor guided_gradcam = where_wanted(guided_gradcam_made, options.gradients_to_host);
      for (int64_t n = 0; n < N; ++n) {
        Explanation& e = result.images[n][r];
        Tensor g = dx.select(n);
        if (rule == ReluRule::Deconvnet) {
          e.deconvnet = g;
          continue;
        }
        e.guided = g;
        if (guided_gradcam.defined()) {
          e.guided_gradcam = guided_gradcam.select(n);
        } else if (map.defined()) {  // on the CPU
          e.guided_gradcam = g.clone();
          float* p = e.guided_gradcam.data();
          for (int64_t c = 0; c < g.size(0); ++c)
            for (int64_t i = 0; i < H * W; ++i) p[c * H * W + i] *= e.map.data()[i];
        }
      }
      if (pictures) {  // made where the gradients are
        std::vector<image::Image> made = gradient_pictures(dx_made);
        for (int64_t n = 0; n < N; ++n)
          (rule == ReluRule::Deconvnet ? result.images[n][r].deconvnet_picture : result.images[n][r].guided_picture) =
              std::move(made[n]);
        if (rule == ReluRule::Guided && (guided_gradcam_made.defined() || map.defined())) {
          if (guided_gradcam_made.defined()) {
            made = gradient_pictures(guided_gradcam_made);
          } else {  // on the CPU, image by image
            made.assign(static_cast<size_t>(N), image::Image{});
#pragma omp parallel for schedule(static) if (N > 1)
            for (int64_t n = 0; n < N; ++n) made[n] = gradient_picture(result.images[n][r].guided_gradcam.data(), H, W);
          }
          for (int64_t n = 0; n < N; ++n) result.images[n][r].guided_gradcam_picture = std::move(made[n]);
        }
      }
      result.guided_ms += since_ms(start);
    }
  }
  return result;
}

}  // namespace gcam::cam
