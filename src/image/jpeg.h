// jpeg.h — JPEG decoding (libjpeg-turbo), used by read_image (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gcam/image.h"

namespace gcam::image {

bool is_jpeg(const uint8_t* data, size_t size);  // starts with the SOI marker and another marker

struct JpegResult {
  Image image;        // RGB, when error is empty and cmyk is false
  std::string error;  // else what went wrong, for "<path>: <error>"
  bool cmyk = false;  // four-channel data (CMYK, YCCK) that libjpeg does not make RGB: use another decoder
};
// Refuses images of more than max_pixels before decoding them.
JpegResult decode_jpeg(const uint8_t* data, size_t size, int64_t max_pixels);

}  // namespace gcam::image
