// conv2d.cu — convolution on the GPU: forward, backward-data, backward-filter, bias (the arithmetic is
// gcam/ops/conv2d.h's; the CPU version is src/ops/conv2d.cpp).
//
// Two engines. cuDNN: for each (pass, shapes, options, math) its fastest deterministic algorithm is
// measured once with cuDNN's Find call. conv2d_gemm.cu: im2col + one cuBLAS SGEMM. For the forward and
// backward-data passes both are then timed on the shape — the same calls captured as a CUDA graph and
// replayed, so that the GPU's time decides and not the host's launch cost, which a replayed
// explanation does not pay — and the faster is cached. Workspace comes from the caching allocator on
// every call (a cache hit in the steady state). Math: plain FP32 (CUDNN_FMA_MATH, cuBLAS's pedantic
// mode) unless TF32 is switched on (set_cuda_tf32), which allows tensor-core TF32 in both engines.
//
// cuDNN 9 marks this descriptor-based API deprecated in favour of its graph API (it warns only with
// CUDNN_WARN_DEPRECATED); it remains in every 9.x release, and it is the direct, readable mapping of
// one convolution onto one call.
#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "../src/cuda/ops.h"
#include "gcam/device.h"
#include "conv2d_gemm.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

// Descriptors live for one call.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(int64_t n, int64_t c, int64_t h, int64_t w) {
    GCAM_CUDA_CHECK(cudnnCreateTensorDescriptor(&d));
    GCAM_CUDA_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(n), int(c), int(h), int(w)));
  }
  explicit TensorDesc(const Shape& s) : TensorDesc(s[0], s[1], s[2], s[3]) {}
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};

struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  explicit FilterDesc(const Shape& w) {
    GCAM_CUDA_CHECK(cudnnCreateFilterDescriptor(&d));
    GCAM_CUDA_CHECK(cudnnSetFilter4dDescriptor(d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(w[0]), int(w[1]),
                                               int(w[2]), int(w[3])));
  }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};

struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  explicit ConvDesc(const ops::Conv2dOptions& o) {
    GCAM_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&d));
    GCAM_CUDA_CHECK(cudnnSetConvolution2dDescriptor(d, int(o.padding.h), int(o.padding.w), int(o.stride.h),
                                                    int(o.stride.w), int(o.dilation.h), int(o.dilation.w),
                                                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    GCAM_CUDA_CHECK(cudnnSetConvolutionGroupCount(d, int(o.groups)));
    GCAM_CUDA_CHECK(cudnnSetConvolutionMathType(d, cuda_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

// Everything that decides an algorithm.
enum class Pass { Forward, BackwardData, BackwardFilter };
using Key = std::tuple<int, std::vector<int64_t>, bool, int>;

Key make_key(Pass pass, const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
  return {static_cast<int>(pass),
          {x[0], x[1], x[2], x[3], w[0], w[1], w[2], w[3], o.stride.h, o.stride.w, o.padding.h, o.padding.w,
           o.dilation.h, o.dilation.w, o.groups},
          cuda_tf32(), static_cast<int>(conv_engine())};
}

struct Choice {
  bool gemm;      // conv2d_gemm.cu rather than cuDNN
  int algorithm;  // cuDNN's
  size_t workspace;
};

ConvEngine engine_setting = ConvEngine::Auto;

std::mutex cache_mutex;
std::map<Key, Choice> algorithm_cache;

// The first (results come sorted by time) successful, deterministic result whose math is the one asked
// for: in FP32 mode only CUDNN_FMA_MATH, so that no algorithm rounds its inputs to TF32.
template <typename Perf>
Choice fastest_deterministic(const Perf* results, int count, const char* what) {
  const bool fp32 = !cuda_tf32();
  for (bool deterministic_only : {true, false})
    for (int i = 0; i < count; ++i) {
      const Perf& r = results[i];
      if (r.status != CUDNN_STATUS_SUCCESS || (fp32 && r.mathType != CUDNN_FMA_MATH)) continue;
      if (deterministic_only && r.determinism != CUDNN_DETERMINISTIC) continue;
      return {false, static_cast<int>(r.algo), r.memory};
    }
  throw InternalError(gcam::detail::concat("conv2d: cuDNN has no working ", what, " algorithm for this shape",
                                           fp32 ? " in FP32 (FMA) math" : ""));
}

template <typename FindFn>
Choice cached_choice(const Key& key, FindFn find) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = algorithm_cache.find(key);
    if (it != algorithm_cache.end()) return it->second;
  }
  const Choice c = find();
  std::lock_guard<std::mutex> lock(cache_mutex);
  algorithm_cache.emplace(key, c);
  return c;
}

// Scratch for one cuDNN call, from the caching allocator.
struct Workspace {
  void* ptr = nullptr;
  size_t bytes;
  explicit Workspace(size_t b) : bytes(b) {
    if (bytes > 0) ptr = allocate_bytes(bytes);
  }
  ~Workspace() { free_bytes(ptr); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
};

// The GPU time (ms) of one call of run(): kCalls calls captured as one CUDA graph, the fastest of
// kReplays replays, over kCalls.
template <typename Run>
double replayed_ms(Run run) {
  constexpr int kCalls = 5, kReplays = 3;
  Graph graph;
  graph.begin_capture();
  try {
    for (int i = 0; i < kCalls; ++i) run();
  } catch (...) {
    graph.abandon_capture();
    throw;
  }
  graph.end_capture();
  graph.replay();  // the first replay uploads the graph
  float best = std::numeric_limits<float>::infinity();
  for (int r = 0; r < kReplays; ++r) best = std::min(best, graph.replay_ms());
  return best / kCalls;
}

// The engine for a pass, given cuDNN's choice: cuDNN where the GEMM engine cannot take the shape or is
// not allowed, the GEMM engine where it is forced, otherwise the faster of the two, each timed by
// run_cudnn(choice) and run_gemm(workspace bytes) on the same shape — the GEMM engine only when its
// time is under kClearWin of cuDNN's (10% faster or more). Near ties are common on large planes
// (H200: vgg16's features.2 at batch 8, 0.708 against 0.707 ms), and a shape timed on its own may run
// differently inside a whole graph: in H200 run 2, vgg16's Grad-CAM graph at batch 64 took 31.0 ms
// with the engines chosen by plain "faster", against 28.4 with cuDNN alone. Where the GEMM engine
// matters it wins by 2–3× (resnet50's layer3 and layer4 at batch 1).
constexpr double kClearWin = 0.9;

template <typename RunCudnn, typename RunGemm>
Choice faster_engine(const Choice& cudnn_choice, bool gemm_supported, size_t gemm_workspace, RunCudnn run_cudnn,
                     RunGemm run_gemm) {
  const Choice gemm{true, -1, gemm_workspace};
  if (!gemm_supported || engine_setting == ConvEngine::Cudnn) return cudnn_choice;
  if (engine_setting == ConvEngine::Gemm) return gemm;
  const double cudnn_ms = replayed_ms([&] { run_cudnn(cudnn_choice); });
  const double gemm_ms = replayed_ms([&] { run_gemm(gemm_workspace); });
  return gemm_ms < kClearWin * cudnn_ms ? gemm : cudnn_choice;
}

constexpr int kRequested = 8;  // how many Find results to look at

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ops::Conv2dOptions& o) {
  const Shape ys = ops::conv2d_output_shape(x.shape(), w.shape(), o);
  Tensor y = device_empty(ys);
  if (y.numel() == 0) return y;
  TensorDesc xd(x.shape()), yd(ys);
  FilterDesc wd(w.shape());
  ConvDesc cd(o);
  const float one = 1.0f, zero = 0.0f;
  const auto run_cudnn = [&](const Choice& c) {  // y = conv(x, w)
    Workspace ws(c.workspace);
    GCAM_CUDA_CHECK(cudnnConvolutionForward(cudnn(), &one, xd.d, x.data(), wd.d, w.data(), cd.d,
                                            static_cast<cudnnConvolutionFwdAlgo_t>(c.algorithm), ws.ptr, ws.bytes,
                                            &zero, yd.d, y.data()));
  };
  const auto run_gemm = [&](size_t bytes) {
    Workspace ws(bytes);
    conv2d_gemm_forward(x.data(), w.data(), y.data(), x.shape(), w.shape(), o, ws.ptr);
  };
  const Choice c = cached_choice(make_key(Pass::Forward, x.shape(), w.shape(), o), [&] {
    cudnnConvolutionFwdAlgoPerf_t results[kRequested];
    int count = 0;
    GCAM_CUDA_CHECK(cudnnFindConvolutionForwardAlgorithm(cudnn(), xd.d, wd.d, cd.d, yd.d, kRequested, &count, results));
    return faster_engine(fastest_deterministic(results, count, "forward"),
                         conv2d_gemm_supported(x.shape(), w.shape(), o), conv2d_gemm_workspace(x.shape(), w.shape(), o),
                         run_cudnn, run_gemm);
  });
  if (c.gemm)
    run_gemm(c.workspace);
  else
    run_cudnn(c);
  if (bias.defined()) {  // y += b, broadcast over (N, H, W)
    TensorDesc bd(1, ys[1], 1, 1);
    GCAM_CUDA_CHECK(cudnnAddTensor(cudnn(), &one, bd.d, bias.data(), &one, yd.d, y.data()));
  }
  return y;
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape, const ops::Conv2dOptions& o) {
  Tensor dx = device_empty(x_shape);
  if (dx.numel() == 0) return dx;
  if (dy.numel() == 0) return device_zeros(x_shape);
  TensorDesc dxd(x_shape), dyd(dy.shape());
  FilterDesc wd(w.shape());
  ConvDesc cd(o);
  const float one = 1.0f, zero = 0.0f;
  const auto run_cudnn = [&](const Choice& c) {  // dx = the input gradient of conv(·, w) for dy
    Workspace ws(c.workspace);
    GCAM_CUDA_CHECK(cudnnConvolutionBackwardData(cudnn(), &one, wd.d, w.data(), dyd.d, dy.data(), cd.d,
                                                 static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algorithm), ws.ptr,
                                                 ws.bytes, &zero, dxd.d, dx.data()));
  };
  const auto run_gemm = [&](size_t bytes) {
    Workspace ws(bytes);
    conv2d_gemm_backward_data(dy.data(), w.data(), dx.data(), x_shape, w.shape(), o, ws.ptr);
  };
  const Choice c = cached_choice(make_key(Pass::BackwardData, x_shape, w.shape(), o), [&] {
    cudnnConvolutionBwdDataAlgoPerf_t results[kRequested];
    int count = 0;
    GCAM_CUDA_CHECK(
        cudnnFindConvolutionBackwardDataAlgorithm(cudnn(), wd.d, dyd.d, cd.d, dxd.d, kRequested, &count, results));
    return faster_engine(fastest_deterministic(results, count, "backward-data"),
                         conv2d_gemm_supported(x_shape, w.shape(), o), conv2d_gemm_workspace(x_shape, w.shape(), o),
                         run_cudnn, run_gemm);
  });
  if (c.gemm)
    run_gemm(c.workspace);
  else
    run_cudnn(c);
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& dy, const Tensor& x, const Shape& w_shape, const ops::Conv2dOptions& o) {
  Tensor dw = device_empty(w_shape);
  if (dw.numel() == 0) return dw;
  if (dy.numel() == 0) return device_zeros(w_shape);
  TensorDesc xd(x.shape()), dyd(dy.shape());
  FilterDesc dwd(w_shape);
  ConvDesc cd(o);
  const Choice c = cached_choice(make_key(Pass::BackwardFilter, x.shape(), w_shape, o), [&] {
    cudnnConvolutionBwdFilterAlgoPerf_t results[kRequested];
    int count = 0;
    GCAM_CUDA_CHECK(
        cudnnFindConvolutionBackwardFilterAlgorithm(cudnn(), xd.d, dyd.d, cd.d, dwd.d, kRequested, &count, results));
    return fastest_deterministic(results, count, "backward-filter");
  });
  Workspace ws(c.workspace);
  const float one = 1.0f, zero = 0.0f;
  GCAM_CUDA_CHECK(cudnnConvolutionBackwardFilter(cudnn(), &one, xd.d, x.data(), dyd.d, dy.data(), cd.d,
                                                 static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algorithm), ws.ptr,
                                                 ws.bytes, &zero, dwd.d, dw.data()));
  return dw;
}

void set_conv_engine(ConvEngine engine) { engine_setting = engine; }
ConvEngine conv_engine() { return engine_setting; }

Tensor conv2d_backward_bias(const Tensor& dy) {
  Tensor db = device_empty(Shape{dy.size(1)});
  if (db.numel() == 0) return db;
  if (dy.numel() == 0) return device_zeros(Shape{dy.size(1)});
  TensorDesc dyd(dy.shape()), dbd(1, dy.size(1), 1, 1);
  const float one = 1.0f, zero = 0.0f;
  GCAM_CUDA_CHECK(cudnnConvolutionBackwardBias(cudnn(), &one, dyd.d, dy.data(), &zero, dbd.d, db.data()));
  return db;
}

}  // namespace gcam::cuda
