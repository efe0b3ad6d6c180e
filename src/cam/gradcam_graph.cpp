// gradcam_graph.cpp — the Grad-CAM step captured as a CUDA graph (see gcam/gradcam_graph.h).
//
// The step is ordinary gcam code — the tape, the model's forward, a targeted backward query — run once
// to warm up (cuDNN picks its algorithms, the allocator fills its cache: neither may happen inside a
// capture) and once more under capture. Everything it queues must stay on the device: the seed is built
// by a kernel from the logits, and the all-zero flags stay on the device until after the replay.
#include "gcam/gradcam_graph.h"

#include "../cuda/cam.h"
#include "../cuda/runtime.h"
#include <chrono>

#include "gcam/autograd.h"
#include "gcam/cam.h"
#include "gcam/error.h"
#include "gcam/ops/softmax.h"

namespace gcam::cam {

struct GradcamGraph::State {
  models::Model& model;
  int64_t batch, height, width;
  std::string layer;
  Tensor input;                                // (N, 3, H, W), fixed: the graph reads it
  cuda::DeviceArray<int32_t> wanted, chosen;   // (N) the classes asked for (−1: top-1), and those used
  Tensor logits, maps, zero_flags;             // what the last queued step produced, on the device
  cuda::DeviceArray<int32_t> boxes;            // (N, 4), likewise (src/cuda/cam.h: localize)
  cuda::Graph graph;

  // Queues the whole step on the engine stream.
  void step() {
    Tape tape;
    tape.keep_taps_only({layer});
    tape.record_from(layer);  // nothing before the target layer is kept: the backward stops there
    const Tensor x = tape.watch(input);
    const Tensor y = model.forward(x);                                  // (N, classes)
    const Tensor A = tape.tapped(layer);                                // (N, K, h, w)
    const Tensor seed = cuda::one_hot_seed(y, wanted, chosen);          // d(y^c)/d(·) for each image's c
    const Tensor dA = tape.grad(y, seed, {A})[0];                       // the short backward pass
    cuda::GradcamMaps g = cuda::gradcam_maps(A, dA, false, /*copy_flags=*/false);
    maps = cuda::upsample_product(g.map, height, width, Tensor()).map;  // (N, H, W)
    boxes = cuda::localize(maps);                                       // each map's box, on the device
    logits = y.detach();
    zero_flags = g.zero_flags;
  }
};

GradcamGraph::GradcamGraph(models::Model& model, int64_t batch, int64_t height, int64_t width,
                           const std::string& layer)
    : state_(new State{model, batch, height, width, layer.empty() ? model.default_target_layer() : layer,
                       Tensor(), cuda::DeviceArray<int32_t>(batch), cuda::DeviceArray<int32_t>(batch), Tensor(),
                       Tensor(), Tensor(), {}, {}}) {
  GCAM_CHECK(model.device() == Device::CUDA, "gradcam graph: the model must be on the GPU (model.to(Device::CUDA))");
  GCAM_CHECK(batch > 0 && height > 0 && width > 0, "gradcam graph: batch and input size must be positive");
  GCAM_CHECK(model.has_layer(state_->layer), "unknown layer '", state_->layer, "' for ", model.architecture());
  State& s = *state_;
  s.input = Tensor::zeros(Shape{batch, 3, height, width}, Device::CUDA);
  s.wanted = cuda::DeviceArray<int32_t>::copy_from_host(std::vector<int32_t>(static_cast<size_t>(batch), -1));
  s.step();  // warm-up, outside the capture
  cuda::synchronize();
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

GradcamGraph::Result GradcamGraph::run(const Tensor& input, const std::vector<int64_t>& classes, bool maps_to_host) {
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
  if (input.device() == Device::CPU)
    cuda::copy_host_to_device(s.input.data(), input.data(), input.numel());
  else
    cuda::copy_device_to_device(s.input.data(), input.data(), input.numel());
  cuda::copy_bytes_host_to_device(s.wanted.data(), wanted.data(), s.batch * static_cast<int64_t>(sizeof(int32_t)));
  s.graph.replay();
  Result r;
  r.logits = s.logits.to(Device::CPU);  // each copy waits for the replay
  if (maps_to_host) r.maps = s.maps.to(Device::CPU);
  r.boxes = cuda::boxes_to_host(s.boxes);
  for (int32_t c : s.chosen.copy_to_host()) r.classes.push_back(c);
  for (float f : s.zero_flags.to(Device::CPU).to_vector()) r.all_zero.push_back(f != 0.0f);
  return r;
}

BatchExplanation GradcamGraph::explain(const Tensor& input, const std::vector<int64_t>& classes,
                                       const Pictures& pictures, bool maps_to_host) {
  const auto start = std::chrono::steady_clock::now();
  Result r = run(input, classes, maps_to_host);
  BatchExplanation b;
  b.gradcam_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  b.logits = r.logits;
  b.probabilities = ops::softmax(r.logits);
  const State& s = *state_;
  const int64_t plane = s.height * s.width, num_classes = r.logits.size(1);
  b.images.resize(static_cast<size_t>(s.batch));
  for (int64_t n = 0; n < s.batch; ++n) {
    Explanation e;
    e.image = n;
    e.class_index = r.classes[n];
    e.score = r.logits.data()[n * num_classes + e.class_index];
    if (maps_to_host)
      e.map = Tensor::from_vector(Shape{s.height, s.width},
                                  std::vector<float>(r.maps.data() + n * plane, r.maps.data() + (n + 1) * plane));
    e.map_all_zero = r.all_zero[n];
    e.box = r.boxes[n];
    b.images[static_cast<size_t>(n)] = {std::move(e)};
  }
  if (pictures.images) {  // from the replay's maps, still on the device
    std::vector<Explanation*> explanations;
    for (auto& image : b.images) explanations.push_back(&image[0]);
    colour_maps(s.maps, pictures, explanations);
  }
  return b;
}

}  // namespace gcam::cam
