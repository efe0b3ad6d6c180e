// The GPU's box (src/cam/component_steps.h, launched by kernels/localize.cu) as steps run on CPU threads,
// against cam::localize (the sequential reference): every pixel of a step is handed to the threads in
// small dynamic chunks, so that unions of one component race as they do on the GPU. The same cases run
// through the CUDA kernels in test_cuda_cam.cpp, where a GPU is present.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <vector>

#include "cam/component_steps.h"  // internal: the steps under test
#include "gcam/cam.h"
#include "support/box_cases.h"

namespace gcam {
namespace {

namespace steps = cam::components;

// Every step over every pixel of the batch, each step finished before the next (as the launches are).
std::vector<cam::Box> boxes_by_steps(const test::BoxCase& c, int threads) {
  const int64_t N = c.images(), plane = c.height * c.width, pixels = N * plane;
  std::vector<int32_t> labels(pixels), sizes(pixels), boxes(4 * N);
  std::vector<float> peaks(N);
  std::vector<unsigned long long> best(N);
  for (int64_t n = 0; n < N; ++n)
    peaks[n] = *std::max_element(c.maps.begin() + n * plane, c.maps.begin() + (n + 1) * plane);
  const steps::Batch b{c.maps.data(), labels.data(), sizes.data(), peaks.data(), best.data(), boxes.data(),
                       c.height, c.width, c.threshold};
  for (int64_t n = 0; n < N; ++n) steps::reset_image(b, n);
  for (void (*step)(const steps::Batch&, int64_t) :
       {steps::label_pixel, steps::join_pixel, steps::count_pixel, steps::pick_pixel, steps::bound_pixel}) {
#pragma omp parallel for schedule(dynamic, 7) num_threads(threads)
    for (int64_t g = 0; g < pixels; ++g) step(b, g);
  }
  std::vector<cam::Box> out(N);
  for (int64_t n = 0; n < N; ++n)
    if (boxes[4 * n + 2] >= 0) out[n] = cam::Box{boxes[4 * n], boxes[4 * n + 1], boxes[4 * n + 2], boxes[4 * n + 3], false};
  return out;
}

TEST(ComponentSteps, GiveLocalizesBoxOnEveryCaseWithThreadsRacing) {
  // At least four threads, even on two cores: the OS then switches them mid-union too.
  const int threads = std::max(4, omp_get_num_procs());
  for (const test::BoxCase& c : test::box_cases()) {
    SCOPED_TRACE(c.name);
    for (int round = 0; round < 8; ++round) {  // a race lost once may be won the next time
      const std::vector<cam::Box> got = boxes_by_steps(c, threads);
      for (int64_t n = 0; n < c.images(); ++n) {
        const cam::Box want = cam::localize(c.maps.data() + n * c.height * c.width, c.height, c.width, c.threshold);
        EXPECT_TRUE(test::same_box(got[n], want)) << "image " << n;
      }
    }
  }
}

// The box alone does not show which component won a tie: the root the steps pick must be the component's
// first pixel in raster order, and every root the smallest index of its component.
TEST(ComponentSteps, RootsAreEachComponentsFirstPixel) {
  const test::BoxCase c = test::box_cases().back();  // the equal blobs
  const int64_t plane = c.height * c.width;
  std::vector<int32_t> labels(2 * plane), sizes(2 * plane), boxes(8);
  const std::vector<float> peaks{1.0f, 1.0f};
  std::vector<unsigned long long> best(2);
  const steps::Batch b{c.maps.data(), labels.data(), sizes.data(), peaks.data(), best.data(), boxes.data(),
                       c.height, c.width, c.threshold};
  for (int64_t n = 0; n < 2; ++n) steps::reset_image(b, n);
  for (auto step : {steps::label_pixel, steps::join_pixel, steps::count_pixel, steps::pick_pixel})
    for (int64_t g = 2 * plane - 1; g >= 0; --g) step(b, g);  // backwards: the worst order for the roots
  EXPECT_EQ(steps::best_root(best[0]), 1 * 8 + 5);
  EXPECT_EQ(steps::best_root(best[1]), 1 * 8 + 0);
  EXPECT_EQ(best[0] >> 32, 4u);  // four pixels
  for (int64_t g = 0; g < 2 * plane; ++g)
    if (labels[g] >= 0) EXPECT_LE(labels[g], g % plane) << "pixel " << g;
}

}  // namespace
}  // namespace gcam
