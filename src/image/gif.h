// gif.h — GIF decoding (giflib), used by read_image (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gcam/image.h"

namespace gcam::image {

bool is_gif(const uint8_t* data, size_t size);  // "GIF87a" or "GIF89a"

struct GifResult {
  Image image;        // RGB, when error is empty
  std::string error;  // else what went wrong, for "<path>: <error>"
};

// The first frame as PIL's convert("RGB") makes it (Pillow's GifImagePlugin): a picture of the logical
// screen's size, the frame's pixels through its local colour table (else the global one; with neither,
// the index as grey), and every pixel the frame does not cover given index 0 — or the frame's
// transparent index, when a graphic control extension names one — through the same table. Refuses a
// screen of more than max_pixels before allocating it; the frame is decoded one line at a time.
GifResult decode_gif(const uint8_t* data, size_t size, int64_t max_pixels);

}  // namespace gcam::image
