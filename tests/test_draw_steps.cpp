// The GPU's draw (src/cam/draw_steps.h, launched by kernels/render.cu) as its pixel steps run on CPU
// threads, against the CPU's upsample_bilinear, heatmap and overlay: the same checks as the GPU launch's
// in test_cuda_cam.cpp (support/draw_checks.h), so that the kernel's arithmetic and indexing are checked
// on every machine, the launch itself wherever a GPU is present.
#include <gtest/gtest.h>

#include <cstdint>

#include "cam/draw_steps.h"  // internal: the steps under test
#include "support/draw_checks.h"

namespace gcam {
namespace {

namespace drawing = cam::drawing;

// Every output pixel of the request drawn by draw_pixel, on the host.
test::DrawnOnHost draw_by_steps(const Tensor& maps, const test::DrawRequest& what) {
  const int64_t N = maps.size(0), pixels = N * what.height * what.width;
  test::DrawnOnHost out;
  if (what.map) out.map.resize(pixels);
  if (what.guided) out.guided_gradcam.resize(3 * pixels);
  if (what.heat) out.heat.resize(3 * pixels);
  if (what.pictures) out.overlay.resize(3 * pixels);
  drawing::Pixels request{};  // null outputs: not asked
  request.maps = maps.data(), request.h = maps.size(1), request.w = maps.size(2);
  request.H = what.height, request.W = what.width;
  request.colormap = what.colormap, request.alpha = what.alpha;
  if (what.map) request.map = out.map.data();
  if (what.guided) request.guided = what.guided->data(), request.guided_gradcam = out.guided_gradcam.data();
  if (what.heat) request.heat = out.heat.data();
  if (what.pictures) request.pictures = what.pictures->data(), request.overlay = out.overlay.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < pixels; ++i) drawing::draw_pixel(request, i);
  return out;
}

TEST(DrawSteps, DrawingEqualsTheCpu) { test::expect_drawing_equals_the_cpu(draw_by_steps); }

TEST(DrawSteps, HeatmapAndOverlayBytesEqualTheCpu) { test::expect_colours_equal_the_cpu(draw_by_steps); }

// The taps at the edges: the first output pixels clamp to source pixel 0, the last repeat the last source
// pixel, and the same size maps each pixel to itself.
TEST(DrawSteps, TapsClampAtTheEdges) {
  const drawing::Tap first = drawing::tap(0, 7, 224), last = drawing::tap(223, 7, 224);
  EXPECT_EQ(first.lo, 0);
  EXPECT_EQ(first.hi, 1);
  EXPECT_EQ(first.frac, 0.0f);
  EXPECT_EQ(last.lo, 6);
  EXPECT_EQ(last.hi, 6);
  for (int64_t o = 0; o < 5; ++o) {
    const drawing::Tap same = drawing::tap(o, 5, 5);
    EXPECT_EQ(same.lo, o);
    EXPECT_EQ(same.frac, 0.0f);
  }
}

}  // namespace
}  // namespace gcam
