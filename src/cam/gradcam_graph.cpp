// gradcam_graph.cpp — the Grad-CAM step captured as a CUDA graph (see gcam/gradcam_graph.h).
//
// The step is ordinary gcam code — the tape, the model's forward, a targeted backward query (and, with
// guided backprop, a second query down to the input under the guided rule) — run once to warm up (cuDNN
// picks its algorithms, the allocator fills its cache: neither may happen inside a capture) and once more
// under capture. Everything it queues must stay on the device: the seed is built by a kernel from the
// logits, and the all-zero flags stay on the device until after the replay.
#include "gcam/gradcam_graph.h"

#include <chrono>

#include "../cuda/cam.h"
#include "../cuda/runtime.h"
#include "gcam/autograd.h"
#include "gcam/cam.h"
#include "gcam/error.h"
#include "gcam/ops/softmax.h"
#include "pictures.h"

namespace gcam::cam {

struct GradcamGraph::State {
  models::Model& model;
  int64_t batch, height, width;
  std::string layer;
  GraphPictures style;
  GraphMethods methods;
  Tensor input;                                // (N, 3, H, W), fixed: the graph reads it
  cuda::DeviceArray<uint8_t> pictures;         // (N, H, W, 3), fixed, when the graph draws
  cuda::DeviceArray<int32_t> wanted, chosen;   // (N) the classes asked for (−1: top-1), and those used
  // What the last queued step produced, on the device: logits, maps (N, H, W), flags (N), boxes (N, 4)
  // (src/cuda/cam.h: localize), with guided backprop its gradient and Guided Grad-CAM (N, 3, H, W), and
  // when the graph draws the heatmaps and overlays and the two gradients' pictures (N, H, W, 3).
  Tensor logits, maps, zero_flags, guided, guided_gradcam;
  cuda::DeviceArray<int32_t> boxes;
  cuda::DeviceArray<uint8_t> heat, overlay, guided_picture, guided_gradcam_picture;
  cuda::Graph graph;

  // Queues the whole step on the engine stream.
  void step() {
    Tape tape;
    tape.keep_taps_only({layer});
    // Grad-CAM alone keeps nothing before the target layer: its backward stops there.
    if (!methods.guided) tape.record_from(layer);
    const Tensor x = tape.watch(input);
    const Tensor y = model.forward(x);                          // (N, classes)
    const Tensor A = tape.tapped(layer);                        // (N, K, h, w)
    const Tensor seed = cuda::one_hot_seed(y, wanted, chosen);  // d(y^c)/d(·) for each image's c
    const Tensor dA = tape.grad(y, seed, {A})[0];               // the short backward pass
    if (methods.guided) {  // the whole backward pass, under the guided ReLU rule: (N, 3, H, W)
      BackwardOptions backward;
      backward.relu_rule = ReluRule::Guided;
      guided = tape.grad(y, seed, {x}, backward)[0];
    }
    cuda::GradcamMaps g = cuda::gradcam_maps(A, dA, false, /*copy_flags=*/false);
    // One launch: the maps at the input size, Guided Grad-CAM, and the maps' pictures if drawn here.
    cuda::Drawing what;
    what.height = height, what.width = width;
    what.guided = methods.guided ? &guided : nullptr;
    what.heat = style.draw, what.pictures = style.draw ? &pictures : nullptr;
    what.colormap = style.colormap, what.alpha = style.alpha;
    cuda::Drawn drawn = cuda::draw(g.map, what);
    maps = drawn.map;
    guided_gradcam = drawn.guided_gradcam;
    heat = std::move(drawn.heat), overlay = std::move(drawn.overlay);
    if (style.draw && methods.guided) {
      guided_picture = cuda::gradient_pictures(guided);
      guided_gradcam_picture = cuda::gradient_pictures(guided_gradcam);
    }
    boxes = cuda::localize(maps);  // each map's box
    logits = y.detach();
    zero_flags = g.zero_flags;
  }
};

GradcamGraph::GradcamGraph(models::Model& model, int64_t batch, int64_t height, int64_t width,
                           const std::string& layer, GraphPictures pictures, GraphMethods methods)
    : state_(new State{model, batch, height, width, layer.empty() ? model.default_target_layer() : layer, pictures,
                       methods, Tensor(), {}, cuda::DeviceArray<int32_t>(batch), cuda::DeviceArray<int32_t>(batch),
                       Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), {}, {}, {}, {}, {}, {}}) {
  GCAM_CHECK(model.device() == Device::CUDA, "gradcam graph: the model must be on the GPU (model.to(Device::CUDA))");
  GCAM_CHECK(batch > 0 && height > 0 && width > 0, "gradcam graph: batch and input size must be positive");
  GCAM_CHECK(model.has_layer(state_->layer), "unknown layer '", state_->layer, "' for ", model.architecture());
  State& s = *state_;
  s.input = Tensor::zeros(Shape{batch, 3, height, width}, Device::CUDA);
  if (pictures.draw) s.pictures = cuda::DeviceArray<uint8_t>(batch * height * width * 3);
  s.wanted = cuda::DeviceArray<int32_t>::copy_from_host(std::vector<int32_t>(static_cast<size_t>(batch), -1));
  s.step();  // warm-up, outside the capture
  cuda::synchronize();
  // The warm-up's blocks, free again, go back to the driver: the capture allocates its own pool, so
  // keeping them would hold the step's memory twice (with guided backprop: every saved activation).
  cuda_release_cached_memory();
  s.graph.begin_capture();
  try {
    s.step();
  } catch (...) {
    s.graph.abandon_capture();
    throw;
  }
  s.graph.end_capture();
}

GradcamGraph::~GradcamGraph() = default;

void GradcamGraph::replay(const Tensor& input, const std::vector<int64_t>& classes, const Pictures* pictures) {
  State& s = *state_;
  check_same_shape("gradcam graph", "input", s.input.shape(), input.shape());
  GCAM_CHECK(classes.empty() || static_cast<int64_t>(classes.size()) == s.batch, "gradcam graph: ", classes.size(),
             " classes for a batch of ", s.batch);
  const int64_t num_classes = s.model.num_classes();
  std::vector<int32_t> wanted(static_cast<size_t>(s.batch), -1);
  for (size_t i = 0; i < classes.size(); ++i) {
    GCAM_CHECK(classes[i] < num_classes, "gradcam graph: class ", classes[i], " is out of range for ", num_classes,
               " classes");
    wanted[i] = classes[i] < 0 ? -1 : static_cast<int32_t>(classes[i]);
  }
  if (pictures) {  // into the fixed buffer the graph's drawing reads
    const std::vector<uint8_t> bytes = picture_bytes(*pictures, s.batch, s.height, s.width);
    cuda::copy_bytes_host_to_device(s.pictures.data(), bytes.data(), static_cast<int64_t>(bytes.size()));
  }
  if (input.device() == Device::CPU)
    cuda::copy_host_to_device(s.input.data(), input.data(), input.numel());
  else
    cuda::copy_device_to_device(s.input.data(), input.data(), input.numel());
  cuda::copy_bytes_host_to_device(s.wanted.data(), wanted.data(), s.batch * static_cast<int64_t>(sizeof(int32_t)));
  s.graph.replay();
}

GradcamGraph::Result GradcamGraph::collect(bool maps_to_host, bool gradients_to_host) {
  State& s = *state_;
  Result r;
  r.logits = s.logits.to(Device::CPU);  // each copy waits for the replay
  if (maps_to_host) r.maps = s.maps.to(Device::CPU);
  if (gradients_to_host && s.methods.guided) {
    r.guided = s.guided.to(Device::CPU);
    r.guided_gradcam = s.guided_gradcam.to(Device::CPU);
  }
  r.boxes = cuda::boxes_to_host(s.boxes);
  for (int32_t c : s.chosen.copy_to_host()) r.classes.push_back(c);
  for (float f : s.zero_flags.to(Device::CPU).to_vector()) r.all_zero.push_back(f != 0.0f);
  return r;
}

GradcamGraph::Result GradcamGraph::run(const Tensor& input, const std::vector<int64_t>& classes, bool maps_to_host,
                                       bool gradients_to_host) {
  replay(input, classes, nullptr);
  return collect(maps_to_host, gradients_to_host);
}

BatchExplanation GradcamGraph::explain(const Tensor& input, const std::vector<int64_t>& classes,
                                       const Pictures& pictures, bool maps_to_host, bool gradients_to_host) {
  const State& s = *state_;
  // Drawn inside the graph when it was captured to draw in this style; else coloured after the replay.
  const bool drawn_here = pictures.images && s.style.draw && pictures.colormap == s.style.colormap &&
                          pictures.alpha == s.style.alpha;
  const auto start = std::chrono::steady_clock::now();
  replay(input, classes, drawn_here ? &pictures : nullptr);
  Result r = collect(maps_to_host, gradients_to_host);
  BatchExplanation b;
  b.gradcam_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  b.logits = r.logits;
  b.probabilities = ops::softmax(r.logits);
  const int64_t num_classes = r.logits.size(1);
  b.images.resize(static_cast<size_t>(s.batch));
  for (int64_t n = 0; n < s.batch; ++n) {
    Explanation e;
    e.image = n;
    e.class_index = r.classes[n];
    e.score = r.logits.data()[n * num_classes + e.class_index];
    // Views of the batch's host copies, as cam::explain gives its per-image tensors.
    if (r.maps.defined()) e.map = r.maps.select(n);
    if (r.guided.defined()) e.guided = r.guided.select(n), e.guided_gradcam = r.guided_gradcam.select(n);
    e.map_all_zero = r.all_zero[n];
    e.box = r.boxes[n];
    b.images[static_cast<size_t>(n)] = {std::move(e)};
  }
  if (pictures.images) {
    std::vector<Explanation*> explanations;
    for (auto& image : b.images) explanations.push_back(&image[0]);
    auto bytes = [&](const cuda::DeviceArray<uint8_t>& made) {
      return split_pictures(made.copy_to_host(), s.batch, s.height, s.width);
    };
    std::vector<image::Image> heat, overlay, guided, guided_gradcam;
    if (drawn_here) {
      heat = bytes(s.heat), overlay = bytes(s.overlay);
      if (s.methods.guided) guided = bytes(s.guided_picture), guided_gradcam = bytes(s.guided_gradcam_picture);
    } else {  // from the replay's tensors, still on the device
      colour_maps(s.maps, pictures, explanations);
      if (s.methods.guided) guided = gradient_pictures(s.guided), guided_gradcam = gradient_pictures(s.guided_gradcam);
    }
    for (int64_t n = 0; n < s.batch; ++n) {
      Explanation& e = *explanations[n];
      if (drawn_here) e.heatmap = std::move(heat[n]), e.overlay = std::move(overlay[n]);
      if (s.methods.guided) {
        e.guided_picture = std::move(guided[n]);
        e.guided_gradcam_picture = std::move(guided_gradcam[n]);
      }
    }
  }
  return b;
}

}  // namespace gcam::cam
