// colormap.cpp — colour maps and blending (formulas in gcam/colormap.h).
#include "gcam/colormap.h"

#include <cmath>

#include "gcam/error.h"
#include "../image/round_byte.h"
#include "colours.h"

namespace gcam::cam {

bool parse_colormap(const std::string& name, Colormap* out) {
  if (name == "jet") *out = Colormap::Jet;
  else if (name == "hot") *out = Colormap::Hot;
  else if (name == "cool") *out = Colormap::Cool;
  else if (name == "gray") *out = Colormap::Gray;
  else return false;
  return true;
}

namespace {

using image::round_byte;  // src/image/round_byte.h
using colours::blend;     // src/cam/colours.h: gcam/colormap.h's formulas, shared with the GPU's drawing
using colours::colour;
using colours::unit;

// out[3i + c] = colour byte c of map[i], or, Blend, alpha·colour byte + (1 − alpha)·picture, rounded
// again: one loop per colour map and mode, with no branch inside, so that GCC vectorises it (given
// -fno-trapping-math for this file: CMakeLists.txt says why; bench_pictures times it).
template <Colormap map, bool Blend>
void paint(const float* values, int64_t count, const uint8_t* picture, float alpha, uint8_t* out) {
  for (int64_t i = 0; i < count; ++i) {
    float rgb[3];
    colour<map>(unit(values[i]), rgb);
    for (int c = 0; c < 3; ++c) {
      const uint8_t byte = round_byte(rgb[c] * 255.0f);
      if constexpr (Blend)
        out[3 * i + c] = round_byte(blend(alpha, byte, picture[3 * i + c]));
      else
        out[3 * i + c] = byte;
    }
  }
}

template <bool Blend>
void paint(Colormap map, const float* values, int64_t count, const uint8_t* picture, float alpha, uint8_t* out) {
  switch (map) {
    case Colormap::Jet: return paint<Colormap::Jet, Blend>(values, count, picture, alpha, out);
    case Colormap::Hot: return paint<Colormap::Hot, Blend>(values, count, picture, alpha, out);
    case Colormap::Cool: return paint<Colormap::Cool, Blend>(values, count, picture, alpha, out);
    case Colormap::Gray: default: return paint<Colormap::Gray, Blend>(values, count, picture, alpha, out);
  }
}

}  // namespace

// One value at a time, with the library's lround: the tests hold heatmap and overlay (inline rounding,
// one loop per map) to it.
std::array<uint8_t, 3> colorize(Colormap map, float v) {
  float rgb[3];
  colour(map, unit(v), rgb);
  auto byte = [](float x) { return static_cast<uint8_t>(std::lround(x * 255.0f)); };
  return {byte(rgb[0]), byte(rgb[1]), byte(rgb[2])};
}

image::Image heatmap(const float* map, int64_t height, int64_t width, Colormap colormap) {
  image::Image out{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  paint<false>(colormap, map, width * height, nullptr, 0.0f, out.rgb.data());
  return out;
}

image::Image overlay(const image::Image& picture, const float* map, Colormap colormap, float alpha) {
  GCAM_CHECK(alpha >= 0.0f && alpha <= 1.0f, "overlay: blend must be in [0, 1], got ", alpha);
  GCAM_CHECK(int64_t(picture.rgb.size()) == picture.width * picture.height * 3, "overlay: the picture is not ",
             picture.width, "×", picture.height, " RGB");
  image::Image out{picture.width, picture.height, std::vector<uint8_t>(picture.rgb.size())};
  paint<true>(colormap, map, picture.width * picture.height, picture.rgb.data(), alpha, out.rgb.data());
  return out;
}

image::Image gradient_picture(const float* g, int64_t height, int64_t width) {
  const int64_t plane = height * width, n = 3 * plane;
  double mean = 0.0, squares = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += g[i];
  mean /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) squares += (g[i] - mean) * (g[i] - mean);
  const double spread = std::sqrt(squares / static_cast<double>(n)) + 1e-5;
  image::Image out{width, height, std::vector<uint8_t>(static_cast<size_t>(n))};
  for (int64_t c = 0; c < 3; ++c)  // (3, H, W) planes → (H, W, 3) pixels
    for (int64_t i = 0; i < plane; ++i) out.rgb[i * 3 + c] = colours::gradient_byte(g[c * plane + i], mean, spread);
  return out;
}

}  // namespace gcam::cam
