// colormap.cpp — colour maps and blending (formulas in gcam/colormap.h).
#include "gcam/colormap.h"

#include <algorithm>
#include <cmath>

#include "gcam/error.h"

namespace gcam::cam {

bool parse_colormap(const std::string& name, Colormap* out) {
  if (name == "jet") *out = Colormap::Jet;
  else if (name == "hot") *out = Colormap::Hot;
  else if (name == "cool") *out = Colormap::Cool;
  else if (name == "gray") *out = Colormap::Gray;
  else return false;
  return true;
}

std::array<uint8_t, 3> colorize(Colormap map, float v) {
  v = std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, 1.0f);
  auto unit = [](float x) { return std::clamp(x, 0.0f, 1.0f); };
  float r, g, b;
  switch (map) {
    case Colormap::Jet:
      r = unit(1.5f - std::fabs(4 * v - 3)), g = unit(1.5f - std::fabs(4 * v - 2)), b = unit(1.5f - std::fabs(4 * v - 1));
      break;
    case Colormap::Hot: r = unit(3 * v), g = unit(3 * v - 1), b = unit(3 * v - 2); break;
    case Colormap::Cool: r = v, g = 1 - v, b = 1; break;
    case Colormap::Gray: default: r = g = b = v; break;
  }
  auto byte = [](float x) { return static_cast<uint8_t>(std::lround(x * 255.0f)); };
  return {byte(r), byte(g), byte(b)};
}

image::Image heatmap(const float* map, int64_t height, int64_t width, Colormap colormap) {
  image::Image out{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  for (int64_t i = 0; i < width * height; ++i) {
    const auto c = colorize(colormap, map[i]);
    std::copy(c.begin(), c.end(), &out.rgb[i * 3]);
  }
  return out;
}

image::Image overlay(const image::Image& picture, const float* map, Colormap colormap, float alpha) {
  GCAM_CHECK(alpha >= 0.0f && alpha <= 1.0f, "overlay: blend must be in [0, 1], got ", alpha);
  image::Image out = heatmap(map, picture.height, picture.width, colormap);
  for (size_t i = 0; i < out.rgb.size(); ++i)
    out.rgb[i] = static_cast<uint8_t>(std::lround(alpha * out.rgb[i] + (1.0f - alpha) * picture.rgb[i]));
  return out;
}

}  // namespace gcam::cam
