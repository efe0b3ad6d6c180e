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

Tensor to_host(const Tensor& t) { return t.device() == Device::CPU ? t : t.to(Device::CPU); }

// Normalised at feature resolution, then upsampled to the input size (the convention most users know).
Tensor normalized_upsampled(const Tensor& raw, int64_t height, int64_t width, std::vector<bool>* all_zero) {
  Tensor normalized = raw.clone();
  normalize_maps(normalized, all_zero);
  return upsample_bilinear(normalized, height, width);
}

// One round's Grad-CAM (or counterfactual) maps, on the host: α (N, K), the raw map (N, h, w) and the
// normalised, upsampled one (N, H, W). On the GPU the reduction is one fused launch and the upsampling
// another (src/cuda/cam.h); only these results come back, and the normalised map at feature resolution
// stays on the device for Guided Grad-CAM's product, the upsampled one for the pictures.
struct RoundMaps {
  Tensor alpha, raw, upsampled;
  std::vector<bool> all_zero;
  Tensor normalized_on_device, upsampled_on_device;  // (N, h, w), (N, H, W); undefined on the CPU
};

RoundMaps round_maps(const Tensor& A, const Tensor& dA, bool counterfactual, int64_t height, int64_t width) {
  RoundMaps m;
  if (dA.device() == Device::CUDA) {
    cuda::GradcamMaps g = cuda::gradcam_maps(A, dA, counterfactual);
    m.alpha = g.alpha.to(Device::CPU);
    m.raw = g.raw.to(Device::CPU);
    m.upsampled_on_device = cuda::upsample_product(g.map, height, width, Tensor()).map;
    m.upsampled = m.upsampled_on_device.to(Device::CPU);
    m.all_zero = g.all_zero;
    m.normalized_on_device = g.map;
    return m;
  }
  m.alpha = channel_weights(dA);
  m.raw = weighted_map(A, m.alpha, counterfactual);
  m.upsampled = normalized_upsampled(m.raw, height, width, &m.all_zero);
  return m;
}

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
  // On the GPU the whole forward and backward pass stays on the device; what the maps are made from
  // (logits, the target layer and its gradient, the input gradient) comes back to the host here.
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
    Tensor map;                   // (N, H, W), on the host
    Tensor normalized_on_device;  // (N, h, w), for Guided Grad-CAM's product on the GPU
    if (options.gradcam || options.counterfactual) {
      start = std::chrono::steady_clock::now();
      const Tensor dA = tape.grad(logits, seed, {A})[0];  // stops at the layer
      result.gradcam_stats = tape.stats();
      result.gradcam_ms += since_ms(start);
      start = std::chrono::steady_clock::now();
      if (options.gradcam) {
        RoundMaps m = round_maps(A, dA, false, H, W);
        map = m.upsampled;
        normalized_on_device = m.normalized_on_device;
        // Images are independent: their copies and boxes are made side by side.
#pragma omp parallel for schedule(static) if (N > 1)
        for (int64_t n = 0; n < N; ++n) {
          Explanation& e = result.images[n][r];
          e.alpha.assign(m.alpha.data() + n * K, m.alpha.data() + (n + 1) * K);
          e.raw_map = m.raw.select(n);
          e.map = map.select(n);
          e.map_all_zero = m.all_zero[n];
          e.box = localize(e.map.data(), H, W);
        }
        if (options.pictures.images) {  // coloured where the maps are
          std::vector<Explanation*> round(static_cast<size_t>(N));
          for (int64_t n = 0; n < N; ++n) round[n] = &result.images[n][r];
          colour_maps(m.upsampled_on_device.defined() ? m.upsampled_on_device : map, options.pictures, round);
        }
      }
      if (options.counterfactual) {
        const RoundMaps m = round_maps(A, dA, true, H, W);
        for (int64_t n = 0; n < N; ++n) {
          result.images[n][r].counterfactual = m.upsampled.select(n);
          result.images[n][r].counterfactual_all_zero = m.all_zero[n];
        }
      }
      result.maps_ms += since_ms(start);
    }
    for (ReluRule rule : {ReluRule::Guided, ReluRule::Deconvnet}) {
      if (rule == ReluRule::Guided ? !options.guided : !options.deconvnet) continue;
      start = std::chrono::steady_clock::now();
      BackwardOptions backward;
      backward.relu_rule = rule;
      const Tensor dx_on_device = tape.grad(logits, seed, {x}, backward)[0];  // (N, 3, H, W), no weight gradient
      const Tensor dx = to_host(dx_on_device);
      // Guided Grad-CAM: guided ⊙ upsampled map, on every colour channel (on the GPU fused with the upsampling).
      Tensor guided_gradcam;
      if (rule == ReluRule::Guided && normalized_on_device.defined())
        guided_gradcam = to_host(cuda::upsample_product(normalized_on_device, H, W, dx_on_device).guided_gradcam);
      result.guided_ms += since_ms(start);
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
        } else if (map.defined()) {
          e.guided_gradcam = g.clone();
          float* p = e.guided_gradcam.data();
          for (int64_t c = 0; c < g.size(0); ++c)
            for (int64_t i = 0; i < H * W; ++i) p[c * H * W + i] *= e.map.data()[i];
        }
      }
    }
  }
  return result;
}

}  // namespace gcam::cam
