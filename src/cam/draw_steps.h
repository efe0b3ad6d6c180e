// draw_steps.h — one output pixel of cuda::draw (kernels/render.cu launches it once per pixel of a batch),
// as a function that nvcc compiles for both sides and the host compiler alone (internal). The tests run
// the very same function on the CPU against the CPU's own steps (upsample_bilinear, heatmap, overlay:
// tests/test_draw_steps.cpp), and the kernel against them on a GPU (test_cuda_cam.cpp), with the same
// checks (tests/support/draw_checks.h).
//
// Output pixel i = (n·H + y)·W + x of N maps, each h×w drawn at H×W:
//   v     the bilinear value with half-pixel centres: per axis s = max(0, (o + ½)·(in/out) − ½),
//         lo = ⌊s⌋, hi = min(lo + 1, in − 1), weight s − lo on hi (the map's own value when in = out)
//   map   v                                              (N, H, W)
//   guided_gradcam  guided[n, c, y, x] · v, c = 0, 1, 2   (N, 3, H, W)
//   heat  the colour of v (gcam/colormap.h; NaN as 0, clamped to [0, 1]) as bytes   (N, H, W, 3)
//   overlay  alpha·colour + (1 − alpha)·picture, rounded to bytes                   (N, H, W, 3)
// each written only where its pointer is not null.
#pragma once

#include <cstdint>

#include "../host_device.h"
#include "../image/round_byte.h"
#include "colours.h"
#include "gcam/colormap.h"

namespace gcam::cam::drawing {

// One axis of the bilinear tap of output coordinate o (of `out`) over `in` source pixels.
struct Tap {
  int64_t lo, hi;
  float frac;  // the weight of hi
};

GCAM_HOST_DEVICE inline Tap tap(int64_t o, int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double centre = (o + 0.5) * scale - 0.5;
  const double s = centre > 0.0 ? centre : 0.0;
  const int64_t whole = static_cast<int64_t>(s);  // ⌊s⌋, s ≥ 0
  const int64_t lo = whole < in - 1 ? whole : in - 1;
  return {lo, lo + 1 < in - 1 ? lo + 1 : in - 1, static_cast<float>(s - lo)};
}

// Map (h, w) at output pixel (y, x) of H×W.
GCAM_HOST_DEVICE inline float upsampled(const float* map, int64_t h, int64_t w, int64_t H, int64_t W, int64_t y,
                                        int64_t x) {
  if (h == H && w == W) return map[y * w + x];
  const Tap r = tap(y, h, H), c = tap(x, w, W);
  const float* top = map + r.lo * w;
  const float* bottom = map + r.hi * w;
  const float upper = top[c.lo] + (top[c.hi] - top[c.lo]) * c.frac;
  const float lower = bottom[c.lo] + (bottom[c.hi] - bottom[c.lo]) * c.frac;
  return upper + (lower - upper) * r.frac;
}

// gcam/colormap.h's colour of v (NaN as 0, clamped to [0, 1]) as bytes, rounded halves up (round_byte,
// as the CPU's heatmaps).
GCAM_HOST_DEVICE inline void colour_bytes(Colormap colormap, float v, uint8_t out[3]) {
  float rgb[3];
  colours::colour(colormap, colours::unit(v), rgb);
  for (int ch = 0; ch < 3; ++ch) out[ch] = image::round_byte(rgb[ch] * 255.0f);
}

// What a draw reads and writes; a null output: not asked.
struct Pixels {
  const float* maps;  // (N, h, w)
  int64_t h, w, H, W;
  const float* guided;      // (N, 3, H, W), with guided_gradcam
  const uint8_t* pictures;  // (N, H, W, 3), with overlay
  Colormap colormap;
  float alpha;
  float* map;               // (N, H, W)
  float* guided_gradcam;    // (N, 3, H, W)
  uint8_t *heat, *overlay;  // (N, H, W, 3)
};

// Everything output pixel i needs, written.
GCAM_HOST_DEVICE inline void draw_pixel(const Pixels& a, int64_t i) {
  const int64_t plane = a.H * a.W, n = i / plane, at = i % plane, y = at / a.W, x = at % a.W;
  const float v = upsampled(a.maps + n * a.h * a.w, a.h, a.w, a.H, a.W, y, x);
  if (a.map) a.map[i] = v;
  if (a.guided_gradcam)
    for (int ch = 0; ch < 3; ++ch) {
      const int64_t j = (n * 3 + ch) * plane + at;
      a.guided_gradcam[j] = a.guided[j] * v;
    }
  if (a.heat || a.overlay) {
    uint8_t rgb[3];
    colour_bytes(a.colormap, v, rgb);
    for (int ch = 0; ch < 3; ++ch) {
      if (a.heat) a.heat[i * 3 + ch] = rgb[ch];
      if (a.overlay)
        a.overlay[i * 3 + ch] = image::round_byte(colours::blend(a.alpha, rgb[ch], a.pictures[i * 3 + ch]));
    }
  }
}

}  // namespace gcam::cam::drawing
