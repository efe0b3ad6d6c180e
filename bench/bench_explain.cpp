// bench_explain — time and peak memory of one explanation pass, as `explain` runs it.
//
//   build/bin/bench_explain ARCH BATCH METHOD [repeats]      METHOD: forward | gradcam | guided
// forward: the recorded forward pass alone; gradcam: forward + the targeted backward to the default
// layer + maps; guided: forward + Grad-CAM + guided backprop to the input (Guided Grad-CAM).
// Prints one JSON line: median seconds per batch, and the process's peak RSS (VmHWM).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gcam/error.h"
#include "../src/tools/host_memory.h"
#include "peak_rss.h"
#include "gcam/explain.h"
#include "gcam/models.h"


int main(int argc, char** argv) try {
  gcam::tools::keep_freed_memory();  // as explain does
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_explain ARCH BATCH forward|gradcam|guided [repeats]\n");
    return 2;
  }
  const std::string arch = argv[1], method = argv[3];
  const int64_t batch = std::atoll(argv[2]);
  const int repeats = argc > 4 ? std::max(1, std::atoi(argv[4])) : 3;
  auto model = gcam::models::make_model(arch);
  model->initialize(1);
  gcam::Tensor input = gcam::Tensor::empty(gcam::Shape{batch, 3, 224, 224});
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < input.numel(); ++i) input.data()[i] = normal(rng);
  gcam::cam::ExplainOptions options;
  options.gradcam = method != "forward";
  options.guided = method == "guided";
  const std::vector<std::vector<int64_t>> targets(static_cast<size_t>(batch), std::vector<int64_t>{-1});
  std::vector<double> seconds;
  for (int r = 0; r <= repeats; ++r) {  // the first run warms up
    const auto start = std::chrono::steady_clock::now();
    if (method == "forward") {
      gcam::Tape tape;
      model->forward(tape.watch(input));
    } else {
      gcam::cam::explain(*model, input, targets, options);
    }
    if (r > 0) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("{\"seconds\": %.6f, \"peak_rss_bytes\": %lld}\n", seconds[seconds.size() / 2], gcam::bench::peak_rss_bytes());
  return 0;
} catch (const gcam::InputError& e) {
  std::fprintf(stderr, "bench_explain: %s\n", e.what());
  return 2;
}
