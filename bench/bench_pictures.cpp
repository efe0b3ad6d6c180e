// bench_pictures — the CPU's pictures of one 224×224 explanation (gcam/colormap.h): a map's heatmap and
// its overlay on a picture, per colour map, and a gradient's picture; and the resize that preprocessing
// starts with (gcam/image.h), for a 64×64 canvas and a 500×375 photo to a 256-pixel shorter side. One
// thread, as explain works on each image on one of its threads. Reported per call and per output pixel.
//
//   build/bin/bench_pictures [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <omp.h>

#include <random>
#include <vector>

#include "gcam/colormap.h"
#include "gcam/image.h"

namespace {

using gcam::cam::Colormap;

constexpr int64_t kHeight = 224, kWidth = 224, kPixels = kHeight * kWidth;

// A map with values a little outside [0, 1] too (the colour maps clamp them), fixed by its seed.
std::vector<float> random_values(int64_t count, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = u(rng);
  return v;
}

gcam::image::Image patterned_picture() {
  gcam::image::Image picture{kWidth, kHeight, std::vector<uint8_t>(static_cast<size_t>(kPixels * 3))};
  for (size_t i = 0; i < picture.rgb.size(); ++i) picture.rgb[i] = static_cast<uint8_t>(i * 31);
  return picture;
}

// The time per output pixel, beside the time per call.
void per_pixel(benchmark::State& state, int64_t pixels = kPixels) {
  state.counters["per_pixel"] = benchmark::Counter(
      double(pixels), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_Heatmap(benchmark::State& state, Colormap map) {
  const std::vector<float> values = random_values(kPixels, -0.1f, 1.1f, 1);
  for (auto _ : state) benchmark::DoNotOptimize(gcam::cam::heatmap(values.data(), kHeight, kWidth, map));
  per_pixel(state);
}

void BM_Overlay(benchmark::State& state, Colormap map) {
  const std::vector<float> values = random_values(kPixels, -0.1f, 1.1f, 2);
  const gcam::image::Image picture = patterned_picture();
  for (auto _ : state) benchmark::DoNotOptimize(gcam::cam::overlay(picture, values.data(), map, 0.5f));
  per_pixel(state);
}

void BM_GradientPicture(benchmark::State& state) {
  const std::vector<float> gradient = random_values(3 * kPixels, -1.0f, 1.0f, 3);
  for (auto _ : state) benchmark::DoNotOptimize(gcam::cam::gradient_picture(gradient.data(), kHeight, kWidth));
  per_pixel(state);
}

// An antialiased bilinear resize of a w×h picture (bytes following a pattern) to W×H.
void BM_Resize(benchmark::State& state, int64_t w, int64_t h, int64_t W, int64_t H) {
  gcam::image::Image picture{w, h, std::vector<uint8_t>(static_cast<size_t>(w * h * 3))};
  for (size_t i = 0; i < picture.rgb.size(); ++i) picture.rgb[i] = static_cast<uint8_t>(i * 7 + i / 13);
  omp_set_num_threads(1);  // resize's own loops are parallel: one thread, as inside explain's batch
  for (auto _ : state) benchmark::DoNotOptimize(gcam::image::resize(picture, W, H));
  per_pixel(state, W * H);
}

BENCHMARK_CAPTURE(BM_Heatmap, jet, Colormap::Jet)->Name("heatmap/jet/224x224");
BENCHMARK_CAPTURE(BM_Heatmap, hot, Colormap::Hot)->Name("heatmap/hot/224x224");
BENCHMARK_CAPTURE(BM_Heatmap, gray, Colormap::Gray)->Name("heatmap/gray/224x224");
BENCHMARK_CAPTURE(BM_Overlay, jet, Colormap::Jet)->Name("overlay/jet/224x224");
BENCHMARK_CAPTURE(BM_Overlay, hot, Colormap::Hot)->Name("overlay/hot/224x224");
BENCHMARK_CAPTURE(BM_Overlay, gray, Colormap::Gray)->Name("overlay/gray/224x224");
BENCHMARK(BM_GradientPicture)->Name("gradient_picture/224x224");
BENCHMARK_CAPTURE(BM_Resize, canvas, 64, 64, 256, 256)->Name("resize/64x64-to-256x256");
BENCHMARK_CAPTURE(BM_Resize, photo, 500, 375, 341, 256)->Name("resize/500x375-to-341x256");

}  // namespace

BENCHMARK_MAIN();
