// colours.h — gcam/colormap.h's formulas as functions that nvcc compiles for both sides and the host
// compiler alone (internal): the one place that the CPU's heatmaps, overlays and gradient pictures
// (colormap.cpp) and the GPU's (draw_steps.h, kernels/render.cu) take them from.
#pragma once

#include <math.h>

#include <cstdint>

#include "../host_device.h"
#include "gcam/colormap.h"

namespace gcam::cam::colours {

// Clamped to [0, 1]; NaN to 0 (both comparisons are false for NaN). Written as selects, which vectorise.
GCAM_HOST_DEVICE inline float unit(float x) {
  x = x > 0.0f ? x : 0.0f;
  return x < 1.0f ? x : 1.0f;
}

// The colour (r, g, b) in [0, 1] of v, already in [0, 1]; 3v − 1 and 3v − 2 as fused multiply-adds.
template <Colormap map>
GCAM_HOST_DEVICE inline void colour(float v, float rgb[3]) {
  if constexpr (map == Colormap::Jet) {
    rgb[0] = unit(1.5f - fabsf(4 * v - 3)), rgb[1] = unit(1.5f - fabsf(4 * v - 2)), rgb[2] = unit(1.5f - fabsf(4 * v - 1));
  } else if constexpr (map == Colormap::Hot) {
    rgb[0] = unit(3 * v), rgb[1] = unit(fmaf(3.0f, v, -1.0f)), rgb[2] = unit(fmaf(3.0f, v, -2.0f));
  } else if constexpr (map == Colormap::Cool) {
    rgb[0] = v, rgb[1] = 1 - v, rgb[2] = 1;
  } else {
    rgb[0] = rgb[1] = rgb[2] = v;
  }
}

// The same, the map chosen at run time.
GCAM_HOST_DEVICE inline void colour(Colormap map, float v, float rgb[3]) {
  switch (map) {
    case Colormap::Jet: return colour<Colormap::Jet>(v, rgb);
    case Colormap::Hot: return colour<Colormap::Hot>(v, rgb);
    case Colormap::Cool: return colour<Colormap::Cool>(v, rgb);
    case Colormap::Gray: default: return colour<Colormap::Gray>(v, rgb);
  }
}

// alpha·colour + (1 − alpha)·picture (both bytes' values) with its one multiply-add spelled out as fma,
// so that no compiler (the host's, nvcc) is free to round it differently by contracting it or not.
GCAM_HOST_DEVICE inline float blend(float alpha, float colour_byte, float picture_byte) {
  return fmaf(alpha, colour_byte, (1.0f - alpha) * picture_byte);
}

// A gradient value g as a picture's byte (gcam/colormap.h's gradient_picture): centred on grey, 0.1 per
// standard deviation, v = (g − mean)/spread·0.1 + 0.5 clamped to [0, 1] (NaN to 0), then x = 255·v
// rounded halves up, without a branch: for x ≥ 0 both x − ⌊x⌋ and twice it are exact, so ⌊2(x − ⌊x⌋)⌋
// is 1 exactly when the fraction is at least ½, as llround decides (half as fast as this with its call
// per byte, and a compare there is a branch that random gradients mispredict).
GCAM_HOST_DEVICE inline uint8_t gradient_byte(double g, double mean, double spread) {
  double v = (g - mean) / spread * 0.1 + 0.5;
  v = v > 0.0 ? v : 0.0;
  v = v < 1.0 ? v : 1.0;
  const double x = v * 255.0;
  const int64_t whole = static_cast<int64_t>(x);
  return static_cast<uint8_t>(whole + static_cast<int64_t>(2.0 * (x - static_cast<double>(whole))));
}

}  // namespace gcam::cam::colours
