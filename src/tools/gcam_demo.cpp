// gcam-demo — the engine at work in one page, until `explain` and the shipped model land.
//
// Builds a small convolutional network with fixed random weights, records one forward pass on a
// synthetic image (a bright square on a dark background), asks the tape for d(score)/d(A) at the last
// convolution stage only, and forms the Grad-CAM map  L = ReLU(Σ_k α_k A_k),  α_k = mean_ij dy/dA_kij.
// It prints what the backward pass ran, to show that the query stops at the target layer.
#include <chrono>
#include <cstdio>
#include <random>

#include <algorithm>

#include "gcam/autograd.h"
#include "gcam/cam.h"
#include "gcam/error.h"
#include "gcam/ops.h"

using namespace gcam;

namespace {

Tensor random_tensor(const Shape& shape, float scale, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, scale);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = normal(rng);
  return t;
}

}  // namespace

int main() try {
  std::mt19937_64 rng(7);
  const int64_t size = 64, classes = 10;
  // The image: (1, 3, 64, 64), a bright square whose top-left corner is at (36, 12).
  Tensor image = Tensor::full(Shape{1, 3, size, size}, -1.0f);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 36; y < 56; ++y)
      for (int64_t x = 12; x < 32; ++x) image.data()[(c * size + y) * size + x] = 1.0f;

  // Weights: conv 3→16 (3×3), conv 16→32 (3×3, stride 2), linear 32→10. He-style scales.
  Tensor w1 = random_tensor(Shape{16, 3, 3, 3}, 0.27f, rng), b1 = Tensor::zeros(Shape{16});
  Tensor w2 = random_tensor(Shape{32, 16, 3, 3}, 0.12f, rng), b2 = Tensor::zeros(Shape{32});
  Tensor wf = random_tensor(Shape{classes, 32}, 0.25f, rng), bf = Tensor::zeros(Shape{classes});

  Tape tape;
  auto start = std::chrono::steady_clock::now();
  Tensor x = tape.watch(image);
  Tensor a1 = ops::relu(ops::conv2d(x, w1, b1, {1, 1}));                        // (1, 16, 64, 64)
  Tensor a2 = ops::relu(ops::conv2d(ops::max_pool2d(a1, {}), w2, b2, {2, 1}));  // (1, 32, 16, 16)
  tape.tap("stage2", a2);
  Tensor logits = ops::linear(ops::flatten(ops::adaptive_avg_pool2d(a2, 1)), wf, bf);  // (1, 10)
  auto forward_done = std::chrono::steady_clock::now();

  // Explain the top-scoring class: seed = one-hot on that logit.
  const std::vector<float> scores = logits.to_vector();
  int64_t top = 0;
  for (int64_t c = 1; c < classes; ++c)
    if (scores[c] > scores[top]) top = c;
  Tensor seed = Tensor::zeros(logits.shape());
  seed.data()[top] = 1.0f;
  Tensor da = tape.grad(logits, seed, {a2})[0];  // (1, 32, 16, 16)
  auto backward_done = std::chrono::steady_clock::now();

  // Grad-CAM at feature resolution: α_k = mean_ij dA, L = ReLU(Σ_k α_k A_k) (gcam/cam.h).
  const Tensor map = cam::weighted_map(a2, cam::channel_weights(da));  // (1, h, w)
  const int64_t h = map.size(1), w = map.size(2);
  const float peak = *std::max_element(map.data(), map.data() + h * w);

  const auto& stats = tape.stats();
  std::printf("gcam-demo: class %lld of %lld, score %.4f\n", (long long)top, (long long)classes, scores[top]);
  std::printf("tape: %d nodes recorded; backward ran %d (", stats.nodes_on_tape, stats.nodes_run);
  for (size_t i = 0; i < stats.ops_run.size(); ++i) std::printf("%s%s", i ? ", " : "", stats.ops_run[i].c_str());
  std::printf("), stopped after %s, %d parameter gradients\n", stats.stopped_after.c_str(),
              stats.parameter_grads_written);
  std::printf("time: forward %.2f ms, backward %.3f ms\n",
              std::chrono::duration<double, std::milli>(forward_done - start).count(),
              std::chrono::duration<double, std::milli>(backward_done - forward_done).count());
  std::printf("Grad-CAM at stage2 (%lldx%lld; # > 50%% of max, + > 15%%; random weights, so this shows the mechanism, not a trained explanation):\n",
              (long long)h, (long long)w);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t xx = 0; xx < w; ++xx) {
      const float v = peak > 0 ? map.data()[y * w + xx] / peak : 0.0f;
      std::putchar(v > 0.5f ? '#' : v > 0.15f ? '+' : '.');
    }
    std::putchar('\n');
  }
  return 0;
} catch (const InputError& e) {
  std::fprintf(stderr, "gcam-demo: %s\n", e.what());
  return 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "gcam-demo: %s\n", e.what());
  return 1;
}
