// png_read.h — PNG decoding (libpng), used by read_image (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gcam/image.h"

namespace gcam::image {

bool is_png(const uint8_t* data, size_t size);  // starts with PNG's 8-byte signature

struct PngResult {
  Image image;        // RGB, when error is empty
  std::string error;  // else what went wrong, for "<path>: <error>"
};
// Any PNG as 8-bit RGB, as PIL's convert("RGB") makes it for 8-bit files: palettes looked up, grey
// repeated into R, G and B, alpha (and a tRNS transparency) dropped without compositing; 16-bit samples
// keep their high byte. Every chunk's CRC and the zlib stream's Adler-32 are checked, so a damaged file is
// refused rather than decoded to wrong pixels. Refuses images of more than max_pixels, or of more raw
// samples than deflate could have packed into the file (1032 to a byte), before allocating the picture.
PngResult decode_png(const uint8_t* data, size_t size, int64_t max_pixels);

}  // namespace gcam::image
