// round_byte.h — a float in [0, 255.5) to the nearest byte, halves up (internal).
//
// The same as std::lround for x ≥ 0, but inline and without a branch: for every float x ≥ 0, x − ⌊x⌋ is
// exact (Sterbenz) and so is twice it, so ⌊2(x − ⌊x⌋)⌋ is 1 exactly when the fraction is at least ½, as
// lround decides. Only conversions and an integer minimum: loops of it vectorise (a compare of floats
// there is a branch under GCC's default -ftrapping-math). A call to lround per byte made a 224×224
// heatmap plus overlay cost 2.8 ms. Larger values are clamped to 255. Host and device: the GPU's drawing
// (src/cam/draw_steps.h) rounds its bytes by it too.
#pragma once

#include <cstdint>

#include "../host_device.h"

namespace gcam::image {

GCAM_HOST_DEVICE inline uint8_t round_byte(float x) {
  const int whole = static_cast<int>(x);  // ⌊x⌋ for x ≥ 0
  const int rounded = whole + static_cast<int>(2.0f * (x - static_cast<float>(whole)));
  return static_cast<uint8_t>(rounded < 255 ? rounded : 255);
}

}  // namespace gcam::image
