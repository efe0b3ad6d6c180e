// draw_checks.cpp — see draw_checks.h.
#include "support/draw_checks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "gcam/cam.h"
#include "support/compare.h"
#include "support/gradcheck.h"

namespace gcam::test {

namespace {

// Image n's RGB bytes of a batch (N, H, W, 3).
image::Image picture_of(const std::vector<uint8_t>& batch, int64_t n, int64_t H, int64_t W) {
  const auto first = batch.begin() + n * H * W * 3;
  return image::Image{W, H, std::vector<uint8_t>(first, first + H * W * 3)};
}

// heat and overlay (N, H, W, 3) against the CPU's heatmap and overlay of `maps` (N, H, W), byte by byte
// within one unit: the compilers may contract floats differently, so a byte may round the other way at .5.
void expect_colours_of(const std::vector<float>& maps, const std::vector<uint8_t>& pictures, int64_t N, int64_t H,
                       int64_t W, cam::Colormap colormap, float alpha, const DrawnOnHost& drawn) {
  ASSERT_EQ(drawn.heat.size(), static_cast<size_t>(N * H * W * 3));
  ASSERT_EQ(drawn.overlay.size(), static_cast<size_t>(N * H * W * 3));
  for (int64_t n = 0; n < N; ++n) {
    const image::Image want_heat = cam::heatmap(maps.data() + n * H * W, H, W, colormap);
    const image::Image want_overlay =
        cam::overlay(picture_of(pictures, n, H, W), maps.data() + n * H * W, colormap, alpha);
    for (int64_t i = 0; i < H * W * 3; ++i) {
      ASSERT_LE(std::abs(int(drawn.heat[n * H * W * 3 + i]) - int(want_heat.rgb[i])), 1) << "heat byte " << i;
      ASSERT_LE(std::abs(int(drawn.overlay[n * H * W * 3 + i]) - int(want_overlay.rgb[i])), 1) << "overlay byte " << i;
    }
  }
}

// N pictures' bytes (N, H, W, 3) following (i·step) mod 256.
std::vector<uint8_t> patterned_bytes(int64_t N, int64_t H, int64_t W, size_t step) {
  std::vector<uint8_t> bytes(static_cast<size_t>(N * H * W * 3));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>((i * step) % 256);
  return bytes;
}

}  // namespace

void expect_drawing_equals_the_cpu(const Drawer& draw) {
  for (const Shape& maps_shape : {Shape{2, 7, 7}, Shape{3, 14, 14}, Shape{1, 5, 9}}) {
    SCOPED_TRACE(maps_shape.str());
    std::vector<float> values = random_normal(maps_shape, 40).to_vector();
    for (float& v : values) v = std::fabs(v);  // activations after a ReLU are ≥ 0
    const Tensor maps = Tensor::from_vector(maps_shape, values);
    const int64_t N = maps_shape[0], H = 224, W = 197;
    const Tensor guided = random_normal(Shape{N, 3, H, W}, 41);
    const std::vector<uint8_t> pictures = patterned_bytes(N, H, W, 29);
    DrawRequest all;
    all.height = H, all.width = W, all.guided = &guided, all.heat = true, all.pictures = &pictures;
    all.colormap = cam::Colormap::Hot, all.alpha = 0.7f;
    const DrawnOnHost drawn = draw(maps, all);

    const Tensor expected = cam::upsample_bilinear(maps, H, W);
    ASSERT_EQ(drawn.map.size(), static_cast<size_t>(N * H * W));
    EXPECT_TRUE(near_relative(Tensor::from_vector(expected.shape(), drawn.map), expected, 1e-5));
    std::vector<float> product = guided.to_vector();
    const std::vector<float> up = expected.to_vector();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t p = 0; p < H * W; ++p) product[(n * 3 + c) * H * W + p] *= up[n * H * W + p];
    ASSERT_EQ(drawn.guided_gradcam.size(), product.size());
    EXPECT_TRUE(near_relative(Tensor::from_vector(guided.shape(), drawn.guided_gradcam),
                              Tensor::from_vector(guided.shape(), product), 1e-5));
    // The CPU's colours of the drawn map (the two maps may differ in the last bit).
    expect_colours_of(drawn.map, pictures, N, H, W, cam::Colormap::Hot, 0.7f, drawn);

    // Fewer outputs asked: the map alone, and the heatmap alone.
    DrawRequest map_only;
    map_only.height = H, map_only.width = W;
    const DrawnOnHost only_map = draw(maps, map_only);
    EXPECT_EQ(only_map.map, drawn.map);
    EXPECT_TRUE(only_map.guided_gradcam.empty());
    EXPECT_TRUE(only_map.heat.empty());
    EXPECT_TRUE(only_map.overlay.empty());
    DrawRequest heat_only = map_only;
    heat_only.map = false, heat_only.heat = true, heat_only.colormap = cam::Colormap::Hot;
    const DrawnOnHost only_heat = draw(maps, heat_only);
    EXPECT_TRUE(only_heat.map.empty());
    EXPECT_TRUE(only_heat.overlay.empty());
    EXPECT_EQ(only_heat.heat, drawn.heat);
  }
}

void expect_colours_equal_the_cpu(const Drawer& draw) {
  const int64_t N = 2, H = 31, W = 17;
  std::vector<float> values = random_normal(Shape{N, H, W}, 50, 0.5f).to_vector();
  for (float& v : values) v += 0.5f;  // mostly in [0, 1], some outside (clamped)
  values[3] = NAN;                    // a NaN is drawn as 0
  const Tensor maps = Tensor::from_vector(Shape{N, H, W}, values);
  const std::vector<uint8_t> pictures = patterned_bytes(N, H, W, 37);
  for (cam::Colormap colormap : {cam::Colormap::Jet, cam::Colormap::Hot, cam::Colormap::Cool, cam::Colormap::Gray}) {
    SCOPED_TRACE(static_cast<int>(colormap));
    DrawRequest what;  // maps already at the pictures' size: coloured as they are
    what.height = H, what.width = W, what.map = false, what.heat = true, what.pictures = &pictures;
    what.colormap = colormap, what.alpha = 0.4f;
    expect_colours_of(values, pictures, N, H, W, colormap, 0.4f, draw(maps, what));
  }
}

}  // namespace gcam::test
