// bench_train — the time of one training step of gcam's canvas models, as gcam-train runs it.
//
//   build/bin/bench_train [ARCH] [BATCH] [STEPS]     (default fashion_resnet, 64 and 20)
// One step: forward in training mode (batch statistics), cross-entropy, backward into every parameter's
// gradient, SGD with momentum and weight decay. Input: random 64×64 canvases-sized tensors and labels
// (the arithmetic does not depend on the values). Two warm-up steps, then STEPS timed ones; prints one
// JSON line with the median step time and images per second.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gcam/models.h"
#include "gcam/train.h"

int main(int argc, char** argv) try {
  const std::string arch = argc > 1 ? argv[1] : "fashion_resnet";
  const int64_t batch = argc > 2 ? std::max(2LL, std::atoll(argv[2])) : 64;
  const int steps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 20;
  auto model = gcam::models::make_model(arch, 10);
  model->initialize(1);
  gcam::train::Sgd sgd(gcam::train::trainable_parameters(*model), {0.9f, 5e-4f});
  gcam::Tensor input = gcam::Tensor::empty(gcam::Shape{batch, 3, 64, 64});  // (N, 3, 64, 64)
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < input.numel(); ++i) input.data()[i] = normal(rng);
  std::vector<int64_t> labels(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) labels[i] = static_cast<int64_t>(rng() % 10);
  std::vector<double> seconds;
  for (int s = 0; s < steps + 2; ++s) {
    const auto start = std::chrono::steady_clock::now();
    gcam::train::train_step(*model, sgd, input, labels, 0.01f);
    if (s >= 2) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  int64_t parameters = 0;
  for (const auto& e : model->state()) parameters += e.buffer ? 0 : e.tensor.numel();
  std::printf("{\"step_seconds\": %.6f, \"images_per_second\": %.1f, \"parameters\": %lld}\n", median, batch / median,
              static_cast<long long>(parameters));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_train: %s\n", e.what());
  return 1;
}
