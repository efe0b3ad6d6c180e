// bench_cuda — gcam on the GPU: conv2d forward and backward-data at the ResNet-50 / VGG-16 layer
// shapes (batch 1 and 8), the fused kernels against the bytes they must move, and whole explanations
// (Grad-CAM alone as a graph, in FP32 and TF32; Grad-CAM with guided backprop as a graph; Grad-CAM;
// Grad-CAM + guided backprop) of resnet50 and vgg16 at 224×224, batch 1, 16 and 64; plus a
// device-to-device copy for the card's bandwidth.
// Each iteration ends with a device synchronisation, so wall-clock time is GPU time plus launch gaps.
// Skips (with an error line per benchmark) when no GPU is present.
//
//   build/bin/bench_cuda [--benchmark_filter=explain] [--benchmark_format=json]
// bench/compare_gpu.py runs it beside PyTorch on the same GPU; bench/gpu_check.sh runs both.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "conv_shapes.h"
#include "gcam/device.h"
#include "gcam/explain.h"
#include "gcam/gradcam_graph.h"
#include "gcam/models.h"
#include "gcam/ops.h"
#include "cuda/cam.h"  // internal: the fused kernels are timed on their own
#include "cuda/ops.h"  // internal: the convolution engine switch
#include "cuda/runtime.h"

namespace {

using gcam::Device;
using gcam::Shape;
using gcam::Tensor;

Tensor random_on_device(const Shape& shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = u(rng);
  return t.to(Device::CUDA);
}

bool skip_without_gpu(benchmark::State& state) {
  if (gcam::cuda_available()) return false;
  state.SkipWithError("no CUDA device");
  return true;
}

// Bytes read plus bytes written by a copy of 1 GiB.
void BM_DeviceCopy(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const int64_t n = int64_t{1} << 28;  // floats
  const Tensor a = Tensor::zeros(Shape{n}, Device::CUDA);
  for (auto _ : state) {
    Tensor b = a.clone();
    gcam::cuda_synchronize();
  }
  state.counters["bytes_per_second"] =
      benchmark::Counter(2.0 * n * sizeof(float), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_DeviceCopy)->UseRealTime()->Unit(benchmark::kMillisecond);

// The fused kernels on their own. Each must read its inputs and write its outputs once: its floor is
// those bytes over the copy's bandwidth, which counts bytes read plus written too (compare_gpu.py
// divides). To time the GPU's work and not the host's launch calls, kRepeats calls are captured as one
// CUDA graph; an iteration replays it, timed by events on the stream around the replay (the device's
// clock: no host launch or wake-up in it), and reports that time over kRepeats. The calls rotate
// over `copies` copies of the inputs, enough of them to span kRotationBytes (several times a Hopper's
// 50–60 MB L2), so that each reads its inputs from device memory as the floor assumes, not from the
// cache that the previous call left them in (at batch 1 all copies fit in L2 anyway).
constexpr int kRepeats = 20;
constexpr double kRotationBytes = 256e6;

int copies_for(double input_bytes) {
  return static_cast<int>(std::min<double>(kRepeats, std::ceil(kRotationBytes / input_bytes)));
}

// call(i) launches the kernel on input copy i and keeps what it returns alive (the graph's replays
// write into it).
template <typename Call>
void time_graph_replays(benchmark::State& state, int copies, double bytes_moved, Call call) {
  call(0);  // warm the allocator's cache
  gcam::cuda::Graph graph;
  graph.begin_capture();
  for (int i = 0; i < kRepeats; ++i) call(i % copies);
  graph.end_capture();
  graph.replay();
  gcam::cuda_synchronize();
  for (auto _ : state) state.SetIterationTime(graph.replay_ms() * 1e-3 / kRepeats);
  state.counters["bytes_moved"] = bytes_moved;
  state.counters["input_copies"] = copies;
}

// The Grad-CAM reduction at the target layers' shapes: it reads A and ∂y/∂A, 2·N·K·h·w floats (its
// outputs, N·K + 2·N·h·w floats, are under 2% of that). `how` picks the kernel and its cut of the
// channels into blocks (cuda/cam.h): the default (the streamed kernel at these shapes), each kernel on
// its own cut (the clustered one where the GPU has clusters, else what it falls back to), and the
// streamed kernel with fewer or more channels per block than its own.
void BM_FusedReduction(benchmark::State& state, int64_t batch, int64_t channels, int64_t size,
                       gcam::cuda::ReductionOptions how) {
  if (skip_without_gpu(state)) return;
  const Shape s{batch, channels, size, size};
  const double bytes = 2.0 * double(s.numel()) * sizeof(float);
  const int copies = copies_for(bytes);
  std::vector<Tensor> As{random_on_device(s, 5)}, dAs{random_on_device(s, 6)};
  for (int i = 1; i < copies; ++i) As.push_back(As[0].clone()), dAs.push_back(dAs[0].clone());
  std::vector<gcam::cuda::GradcamMaps> outputs;
  time_graph_replays(state, copies, bytes, [&](int i) {
    outputs.push_back(gcam::cuda::gradcam_maps(As[i], dAs[i], false, false, how));
  });
  if (const int64_t held = gcam::cuda::resident_clusters(s, how))  // 0: not the clustered kernel
    state.counters["resident_clusters"] = static_cast<double>(held);
}

// What the device's own copy engine path takes for the same bytes as the reduction: A (N, K, h, w)
// copied, reading N·K·h·w floats and writing as many — the reduction's traffic, in the same
// kRepeats-call graphs over the same rotation. The floor of a kernel that must touch those bytes once,
// as launched here, is no lower than this row.
void BM_CopyOfReductionBytes(benchmark::State& state, int64_t batch, int64_t channels, int64_t size) {
  if (skip_without_gpu(state)) return;
  const Shape s{batch, channels, size, size};
  const double bytes = 2.0 * double(s.numel()) * sizeof(float);
  const int copies = copies_for(bytes);
  std::vector<Tensor> As{random_on_device(s, 5)};
  for (int i = 1; i < copies; ++i) As.push_back(As[0].clone());
  std::vector<Tensor> outputs;
  time_graph_replays(state, copies, bytes, [&](int i) { outputs.push_back(As[i].clone()); });
}

// The upsampling of the maps (N, h, w) to 224×224 fused with Guided Grad-CAM's product (a draw launch
// asked for those two): it reads the
// maps and the guided gradient (N, 3, H, W) and writes the upsampled maps (N, H, W) and the products
// (N, 3, H, W).
void BM_FusedUpsampleProduct(benchmark::State& state, int64_t batch, int64_t size) {
  if (skip_without_gpu(state)) return;
  constexpr int64_t H = 224, W = 224;
  const Shape maps_shape{batch, size, size}, guided_shape{batch, 3, H, W};
  const double read = double(maps_shape.numel() + guided_shape.numel()) * sizeof(float);
  const double written = double(batch * H * W + guided_shape.numel()) * sizeof(float);
  const int copies = copies_for(read);
  std::vector<Tensor> maps{random_on_device(maps_shape, 7)}, guided{random_on_device(guided_shape, 8)};
  for (int i = 1; i < copies; ++i) maps.push_back(maps[0].clone()), guided.push_back(guided[0].clone());
  std::vector<gcam::cuda::Drawn> outputs;
  time_graph_replays(state, copies, read + written, [&](int i) {
    gcam::cuda::Drawing what;
    what.height = H, what.width = W, what.guided = &guided[i];
    outputs.push_back(gcam::cuda::draw(maps[i], what));
  });
}

// Colours and overlays of maps already at 224×224 on the pictures (N, 224, 224, 3 bytes): it reads
// the maps and the pictures and writes two pictures' bytes.
void BM_FusedRender(benchmark::State& state, int64_t batch) {
  if (skip_without_gpu(state)) return;
  constexpr int64_t H = 224, W = 224;
  const Shape maps_shape{batch, H, W};
  const int64_t pixels = maps_shape.numel();
  const double read = double(pixels) * (sizeof(float) + 3), written = double(pixels) * 6;
  const int copies = copies_for(read);
  std::vector<Tensor> maps{random_on_device(maps_shape, 9)};
  for (int i = 1; i < copies; ++i) maps.push_back(maps[0].clone());
  std::vector<uint8_t> bytes(static_cast<size_t>(3 * pixels));
  std::mt19937 rng(10);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  std::vector<gcam::cuda::DeviceArray<uint8_t>> pictures;
  for (int i = 0; i < copies; ++i) pictures.push_back(gcam::cuda::DeviceArray<uint8_t>::copy_from_host(bytes));
  std::vector<gcam::cuda::Drawn> outputs;
  time_graph_replays(state, copies, read + written, [&](int i) {
    gcam::cuda::Drawing what;  // maps already at the pictures' size
    what.height = H, what.width = W, what.map = false, what.heat = true, what.pictures = &pictures[i];
    outputs.push_back(gcam::cuda::draw(maps[i], what));
  });
}

// The whole drawing of explain's Grad-CAM round in one launch: maps (N, 7, 7) upsampled to 224×224,
// multiplied into the guided gradient (N, 3, H, W), coloured, and blended over the pictures. It reads the
// maps, the gradient and the pictures, and writes the map, the product and two pictures' bytes.
void BM_FusedDraw(benchmark::State& state, int64_t batch) {
  if (skip_without_gpu(state)) return;
  constexpr int64_t H = 224, W = 224;
  const Shape maps_shape{batch, 7, 7}, guided_shape{batch, 3, H, W};
  const int64_t pixels = batch * H * W;
  const double read = double(maps_shape.numel() + guided_shape.numel()) * sizeof(float) + 3.0 * pixels;
  const double written = double(pixels + guided_shape.numel()) * sizeof(float) + 6.0 * pixels;
  const int copies = copies_for(read);
  std::vector<Tensor> maps{random_on_device(maps_shape, 14)}, guided{random_on_device(guided_shape, 15)};
  for (int i = 1; i < copies; ++i) maps.push_back(maps[0].clone()), guided.push_back(guided[0].clone());
  std::vector<gcam::cuda::DeviceArray<uint8_t>> pictures;
  for (int i = 0; i < copies; ++i)
    pictures.push_back(gcam::cuda::DeviceArray<uint8_t>::copy_from_host(std::vector<uint8_t>(3 * pixels, 128)));
  std::vector<gcam::cuda::Drawn> outputs;
  time_graph_replays(state, copies, read + written, [&](int i) {
    gcam::cuda::Drawing what;
    what.height = H, what.width = W, what.guided = &guided[i], what.heat = true, what.pictures = &pictures[i];
    outputs.push_back(gcam::cuda::draw(maps[i], what));
  });
}

// The paper's box for each of N maps of 224×224 (kernels/localize.cu): six launches over the pixels.
// The maps are Grad-CAM-like: a random 7×7 grid, bilinearly upsampled (a few large blobs). Its bytes:
// the maps read and a 32-bit label per pixel written once, the least any labelling moves (the steps
// read the labels several times more).
void BM_Localize(benchmark::State& state, int64_t batch) {
  if (skip_without_gpu(state)) return;
  constexpr int64_t H = 224, W = 224;
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Tensor grid = Tensor::empty(Shape{batch, 7, 7});
  for (int64_t i = 0; i < grid.numel(); ++i) grid.data()[i] = u(rng);
  const Tensor maps = gcam::cam::upsample_bilinear(grid, H, W).to(gcam::Device::CUDA);
  const double bytes = double(batch * H * W) * (sizeof(float) + sizeof(int32_t));
  std::vector<gcam::cuda::DeviceArray<int32_t>> outputs;
  time_graph_replays(state, 1, bytes, [&](int) { outputs.push_back(gcam::cuda::localize(maps)); });
}

// Guided backprop's gradients (N, 3, 224, 224) as pictures (N, 224, 224, 3 bytes): one block per image
// reads its gradient three times (mean, spread, bytes; the second and third mostly from L2).
void BM_GradientPictures(benchmark::State& state, int64_t batch) {
  if (skip_without_gpu(state)) return;
  const Shape s{batch, 3, 224, 224};
  const double read = double(s.numel()) * sizeof(float), written = double(s.numel());
  const int copies = copies_for(read);
  std::vector<Tensor> gradients{random_on_device(s, 13)};
  for (int i = 1; i < copies; ++i) gradients.push_back(gradients[0].clone());
  std::vector<gcam::cuda::DeviceArray<uint8_t>> outputs;
  time_graph_replays(state, copies, read + written,
                     [&](int i) { outputs.push_back(gcam::cuda::gradient_pictures(gradients[i])); });
}

enum class Pass { Forward, BackwardData };

// One layer's convolution on random device tensors: run() is its forward or its input gradient.
struct ConvCall {
  Shape x_shape, w_shape;
  gcam::ops::Conv2dOptions options;
  Tensor x, w, dy;
  Pass pass;

  ConvCall(const gcam::bench::ConvLayer& layer, int64_t batch, Pass p)
      : x_shape{batch, layer.in_channels, layer.size, layer.size},
        w_shape{layer.out_channels, layer.in_channels, layer.kernel, layer.kernel},
        pass(p) {
    options.stride = layer.stride;
    options.padding = layer.padding;
    x = random_on_device(x_shape, 1);
    w = random_on_device(w_shape, 2);
    dy = random_on_device(gcam::ops::conv2d_output_shape(x_shape, w_shape, options), 3);
  }
  Tensor run() const {
    return pass == Pass::Forward ? gcam::ops::conv2d_forward(x, w, Tensor(), options)
                                 : gcam::ops::conv2d_backward_data(dy, w, x_shape, options);
  }
};

void BM_CudaConv(benchmark::State& state, gcam::bench::ConvLayer layer, int64_t batch, Pass pass) {
  if (skip_without_gpu(state)) return;
  const ConvCall conv(layer, batch, pass);
  conv.run();  // the algorithm search, once per shape
  for (auto _ : state) {
    Tensor out = conv.run();
    gcam::cuda_synchronize();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(gcam::bench::conv_flops(layer, batch), benchmark::Counter::kIsIterationInvariantRate);
}

// The same convolutions by one engine at a time (cuda/ops.h: cuDNN's fastest deterministic algorithm,
// or im2col + cuBLAS), timed as graph replays: the GPU's time, as a replayed explanation pays it, and
// the numbers behind the engine choice that conv2d.cu makes by timing them the same way.
struct EngineScope {  // the switch is process-wide: back to Auto whatever happens
  explicit EngineScope(gcam::cuda::ConvEngine e) { gcam::cuda::set_conv_engine(e); }
  ~EngineScope() { gcam::cuda::set_conv_engine(gcam::cuda::ConvEngine::Auto); }
};

void BM_CudaConvByEngine(benchmark::State& state, gcam::bench::ConvLayer layer, int64_t batch, Pass pass,
                         gcam::cuda::ConvEngine engine) {
  if (skip_without_gpu(state)) return;
  EngineScope scope(engine);
  const ConvCall conv(layer, batch, pass);
  std::vector<Tensor> outputs;
  time_graph_replays(state, 1, 0.0, [&](int) { outputs.push_back(conv.run()); });
}

// One whole explanation: forward, the backward pass(es), the maps (on the host), as `explain` runs it.
// kept: the maps and gradients stay on the device (what `explain` asks for unless --maps), so only the
// logits, the boxes and the flags come back; otherwise every tensor is copied to the host, as before.
void BM_CudaExplain(benchmark::State& state, std::string architecture, int64_t batch, bool guided, bool kept) {
  if (skip_without_gpu(state)) return;
  auto model = gcam::models::make_model(architecture);
  model->initialize(1);
  model->to(Device::CUDA);
  const Tensor x = random_on_device(Shape{batch, 3, 224, 224}, 4);
  gcam::cam::ExplainOptions options;
  options.guided = guided;
  options.maps_to_host = options.gradients_to_host = !kept;
  const std::vector<std::vector<int64_t>> targets(static_cast<size_t>(batch), std::vector<int64_t>{-1});
  gcam::cam::explain(*model, x, targets, options);  // warm-up: algorithm search, the allocator's cache
  for (auto _ : state) {
    gcam::cam::BatchExplanation result = gcam::cam::explain(*model, x, targets, options);
    benchmark::DoNotOptimize(result.logits.data());
  }
  state.counters["images_per_second"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

// Grad-CAM as a replayed CUDA graph (gcam/gradcam_graph.h): input copied in, maps and logits out.
// tf32: the graph is captured with TF32 tensor-core math allowed (set_cuda_tf32), for the TF32 rows.
// engine: the convolution engines allowed (Auto: the faster of cuDNN and im2col + cuBLAS per layer;
// Cudnn: cuDNN alone, as before that choice existed — the baseline of the engine rows). guided: the graph
// also runs guided backprop and Guided Grad-CAM (GraphMethods), and both gradients come out too.
void BM_CudaGradcamGraph(benchmark::State& state, std::string architecture, int64_t batch, bool tf32,
                         gcam::cuda::ConvEngine engine, bool guided) {
  if (skip_without_gpu(state)) return;
  EngineScope engine_scope(engine);
  struct Tf32Scope {  // the switch is process-wide: back to FP32 whatever happens
    explicit Tf32Scope(bool on) { gcam::set_cuda_tf32(on); }
    ~Tf32Scope() { gcam::set_cuda_tf32(false); }
  } tf32_scope(tf32);
  auto model = gcam::models::make_model(architecture);
  model->initialize(1);
  model->to(Device::CUDA);
  gcam::cam::GradcamGraph graph(*model, batch, 224, 224, "", {}, gcam::cam::GraphMethods{guided});
  const Tensor x = random_on_device(Shape{batch, 3, 224, 224}, 4);
  graph.run(x);
  for (auto _ : state) {
    gcam::cam::GradcamGraph::Result r = graph.run(x);
    benchmark::DoNotOptimize(r.maps.data());
  }
  state.counters["images_per_second"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

// Registers bench(state, args...) under name, reporting an exception (a kernel that fails to launch, a
// capture the driver refuses) as that row's error instead of ending the whole run.
template <typename Bench, typename... Args>
benchmark::internal::Benchmark* register_guarded(const std::string& name, Bench bench, Args... args) {
  return benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    try {
      bench(state, args...);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
    }
  });
}

int register_benchmarks() {
  for (const auto& layer : gcam::bench::conv_layers())
    for (int64_t batch : {1, 8})
      for (Pass pass : {Pass::Forward, Pass::BackwardData}) {
        const std::string name =
            std::string(pass == Pass::Forward ? "cuda_conv_forward/" : "cuda_conv_backward_data/") + layer.name +
            "/batch:" + std::to_string(batch);
        register_guarded(name, BM_CudaConv, layer, batch, pass)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.05);
      }
  for (const auto& layer : gcam::bench::conv_layers())
    for (int64_t batch : {1, 8})
      for (Pass pass : {Pass::Forward, Pass::BackwardData})
        for (gcam::cuda::ConvEngine engine : {gcam::cuda::ConvEngine::Cudnn, gcam::cuda::ConvEngine::Gemm}) {
          const std::string name = std::string("cuda_conv_by_engine/") +
                                   (pass == Pass::Forward ? "forward/" : "backward_data/") + layer.name +
                                   "/batch:" + std::to_string(batch) +
                                   (engine == gcam::cuda::ConvEngine::Cudnn ? "/cudnn" : "/im2col+cublas");
          register_guarded(name, BM_CudaConvByEngine, layer, batch, pass, engine)
              ->UseManualTime()
              ->Iterations(20)
              ->Unit(benchmark::kMillisecond);
        }
  struct TargetLayer {
    const char* name;
    int64_t channels, size;
  };
  for (const TargetLayer& t : {TargetLayer{"resnet50.layer4", 2048, 7}, TargetLayer{"vgg16.features.29", 512, 14}})
    for (int64_t batch : {1, 16, 64})
      for (const auto& [cut, how] : std::vector<std::pair<std::string, gcam::cuda::ReductionOptions>>{
               {"", {}},
               {":sliced", {gcam::cuda::Reduction::Sliced, 0}},
               {":streamed-32-channels-per-block", {gcam::cuda::Reduction::Streamed, 32}},
               {":streamed-64-channels-per-block", {gcam::cuda::Reduction::Streamed, 64}},
               {":streamed-128-channels-per-block", {gcam::cuda::Reduction::Streamed, 128}},
               {":streamed-256-channels-per-block", {gcam::cuda::Reduction::Streamed, 256}}}) {
        const std::string name =
            std::string("cuda_fused_reduction/") + t.name + cut + "/batch:" + std::to_string(batch);
        // A fixed count of graph replays (each kRepeats reductions): Google Benchmark's minimum time
        // counts the manual time, one reduction's, and would replay the graph for seconds.
        register_guarded(name, BM_FusedReduction, batch, t.channels, t.size, how)
            ->UseManualTime()
            ->Iterations(200)
            ->Unit(benchmark::kMicrosecond);
      }
  for (const TargetLayer& t : {TargetLayer{"resnet50.layer4", 2048, 7}, TargetLayer{"vgg16.features.29", 512, 14}})
    for (int64_t batch : {1, 16, 64})
      register_guarded("cuda_copy_of_reduction_bytes/" + std::string(t.name) + "/batch:" + std::to_string(batch),
                       BM_CopyOfReductionBytes, batch, t.channels, t.size)
          ->UseManualTime()
          ->Iterations(200)
          ->Unit(benchmark::kMicrosecond);
  for (int64_t batch : {1, 16, 64}) {
    register_guarded("cuda_fused_upsample_product/7x7-to-224x224/batch:" + std::to_string(batch),
                     BM_FusedUpsampleProduct, batch, int64_t{7})
        ->UseManualTime()
        ->Iterations(200)
        ->Unit(benchmark::kMicrosecond);
    register_guarded("cuda_fused_render/224x224/batch:" + std::to_string(batch), BM_FusedRender, batch)
        ->UseManualTime()
        ->Iterations(200)
        ->Unit(benchmark::kMicrosecond);
    register_guarded("cuda_fused_draw/7x7-to-224x224/batch:" + std::to_string(batch), BM_FusedDraw, batch)
        ->UseManualTime()
        ->Iterations(200)
        ->Unit(benchmark::kMicrosecond);
    register_guarded("cuda_localize/224x224/batch:" + std::to_string(batch), BM_Localize, batch)
        ->UseManualTime()
        ->Iterations(200)
        ->Unit(benchmark::kMicrosecond);
    register_guarded("cuda_gradient_pictures/224x224/batch:" + std::to_string(batch), BM_GradientPictures, batch)
        ->UseManualTime()
        ->Iterations(200)
        ->Unit(benchmark::kMicrosecond);
  }
  // The graph rows: FP32 and TF32 with the faster conv engine per layer, cuDNN alone, and with guided backprop.
  struct GraphRow {
    const char* prefix;
    bool tf32;
    gcam::cuda::ConvEngine engine;
    bool guided;
  };
  for (const GraphRow& row : {GraphRow{"cuda_gradcam_graph/", false, gcam::cuda::ConvEngine::Auto, false},
                              GraphRow{"cuda_gradcam_graph_tf32/", true, gcam::cuda::ConvEngine::Auto, false},
                              GraphRow{"cuda_gradcam_graph_cudnn_only/", false, gcam::cuda::ConvEngine::Cudnn, false},
                              GraphRow{"cuda_gradcam_graph_guided/", false, gcam::cuda::ConvEngine::Auto, true}})
    for (const char* architecture : {"resnet50", "vgg16"})
      for (int64_t batch : {1, 16, 64}) {
        const std::string name = std::string(row.prefix) + architecture + "/batch:" + std::to_string(batch);
        register_guarded(name, BM_CudaGradcamGraph, std::string(architecture), batch, row.tf32, row.engine, row.guided)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.2);
      }
  for (const char* architecture : {"resnet50", "vgg16"})
    for (int64_t batch : {1, 16, 64})
      for (bool guided : {false, true}) {
        const std::string name = std::string("cuda_explain/") + architecture +
                                 (guided ? "/gradcam+guided" : "/gradcam") + "/batch:" + std::to_string(batch);
        register_guarded(name, BM_CudaExplain, std::string(architecture), batch, guided, false)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.2);
      }
  for (const char* architecture : {"resnet50", "vgg16"})
    for (int64_t batch : {1, 64}) {
      const std::string name =
          std::string("cuda_explain_kept_on_device/") + architecture + "/gradcam+guided/batch:" + std::to_string(batch);
      register_guarded(name, BM_CudaExplain, std::string(architecture), batch, true, true)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.2);
    }
  // The clustered reduction last: written without a GPU, so that a fault in it cannot stop the rows above.
  // Its own cut (8 blocks per image), and 16 blocks per image (Hopper's largest cluster); loading through
  // its warps, then by bulk copies (the last rows: the newest code).
  using gcam::cuda::Reduction;
  struct ClusteredRow {
    const char* suffix;
    Reduction kernel;
    int64_t blocks;  // 0: the kernel's own cut
  };
  for (const ClusteredRow& row : {ClusteredRow{":clustered", Reduction::Clustered, 0},
                                  ClusteredRow{":clustered-16-blocks", Reduction::Clustered, 16},
                                  ClusteredRow{":clustered-bulk", Reduction::ClusteredBulk, 0},
                                  ClusteredRow{":clustered-bulk-16-blocks", Reduction::ClusteredBulk, 16}})
    for (const TargetLayer& t : {TargetLayer{"resnet50.layer4", 2048, 7}, TargetLayer{"vgg16.features.29", 512, 14}})
      for (int64_t batch : {1, 16, 64})
        register_guarded(std::string("cuda_fused_reduction/") + t.name + row.suffix + "/batch:" + std::to_string(batch),
                         BM_FusedReduction, batch, t.channels, t.size,
                         gcam::cuda::ReductionOptions{row.kernel, row.blocks > 0 ? t.channels / row.blocks : 0})
            ->UseManualTime()
            ->Iterations(200)
            ->Unit(benchmark::kMicrosecond);
  return 0;
}
const int registered = register_benchmarks();

}  // namespace

BENCHMARK_MAIN();
