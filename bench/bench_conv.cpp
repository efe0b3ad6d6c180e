// bench_conv — conv2d forward and backward-data at the real layer shapes of ResNet-50 and VGG-16
// (224×224, batch 1 and 8), in FLOP/s, plus this machine's measured FP32 peak to read them against.
//
//   build/bin/bench_conv [--benchmark_filter=vgg16] [--benchmark_repetitions=3]
// bench/compare_conv.py runs it beside PyTorch's CPU convolution on the same shapes.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "conv_shapes.h"
#include "gcam/ops/conv2d.h"

namespace {

using gcam::Shape;
using gcam::Tensor;

Tensor random_tensor(const Shape& shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = u(rng);
  return t;
}

// FP32 peak: every thread runs 12 independent chains of 8-wide FMAs (enough to cover FMA latency on
// two pipes), so the loop is bound by FMA throughput alone. FLOPs = 2 per lane per FMA.
void BM_Fp32PeakFma(benchmark::State& state) {
#if defined(__AVX2__) && defined(__FMA__)
  constexpr int kChains = 12, kSteps = 1 << 16;
  const int threads = omp_get_max_threads();
  float sink = 0.0f;
  for (auto _ : state) {
#pragma omp parallel reduction(+ : sink)
    {
      __m256 acc[kChains];
      for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.001f * (c + omp_get_thread_num()));
      const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
      for (int s = 0; s < kSteps; ++s)
        for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
      __m256 total = acc[0];
      for (int c = 1; c < kChains; ++c) total = _mm256_add_ps(total, acc[c]);
      float lanes[8];
      _mm256_storeu_ps(lanes, total);
      for (float v : lanes) sink += v;
    }
  }
  benchmark::DoNotOptimize(sink);
  const double flops = 2.0 * 8 * kChains * double(kSteps) * threads;
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = threads;
#else
  state.SkipWithError("built without AVX2/FMA");
#endif
}
BENCHMARK(BM_Fp32PeakFma)->UseRealTime()->Unit(benchmark::kMillisecond);

enum class Pass { Forward, BackwardData };

void BM_Conv(benchmark::State& state, gcam::bench::ConvLayer layer, int64_t batch, Pass pass) {
  const Shape x_shape{batch, layer.in_channels, layer.size, layer.size};
  const Shape w_shape{layer.out_channels, layer.in_channels, layer.kernel, layer.kernel};
  gcam::ops::Conv2dOptions options;
  options.stride = layer.stride;
  options.padding = layer.padding;
  const Tensor w = random_tensor(w_shape, 2);
  const Tensor x = random_tensor(x_shape, 1);
  const Tensor dy = random_tensor(gcam::ops::conv2d_output_shape(x_shape, w_shape, options), 3);
  std::vector<double> seconds;  // of each call, for the median
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    Tensor out = pass == Pass::Forward ? gcam::ops::conv2d_forward(x, w, Tensor(), options)
                                       : gcam::ops::conv2d_backward_data(dy, w, x_shape, options);
    benchmark::DoNotOptimize(out.data());
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const double flops = gcam::bench::conv_flops(layer, batch);
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  // FLOPS is over the mean time per call; a slow spell of a shared machine drags a mean, so the median
  // call is reported too (bench/compare_conv.py compares it with PyTorch's median call).
  std::nth_element(seconds.begin(), seconds.begin() + seconds.size() / 2, seconds.end());
  state.counters["GFLOPS_median_call"] = flops / seconds[seconds.size() / 2] / 1e9;
}

// One benchmark per (layer, batch, pass), named e.g. "conv_forward/vgg16.features.2/batch:8".
int register_conv_benchmarks() {
  for (const auto& layer : gcam::bench::conv_layers())
    for (int64_t batch : {1, 8})
      for (Pass pass : {Pass::Forward, Pass::BackwardData}) {
        const std::string name = std::string(pass == Pass::Forward ? "conv_forward/" : "conv_backward_data/") +
                                 layer.name + "/batch:" + std::to_string(batch);
        benchmark::RegisterBenchmark(name.c_str(), BM_Conv, layer, batch, pass)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.3);
      }
  return 0;
}
const int registered = register_conv_benchmarks();

}  // namespace

BENCHMARK_MAIN();
