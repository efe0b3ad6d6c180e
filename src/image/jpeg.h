// jpeg.h — JPEG decoding (libjpeg-turbo), used by read_image (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gcam/image.h"

namespace gcam::image {

bool is_jpeg(const uint8_t* data, size_t size);  // starts with the SOI marker and another marker

struct JpegResult {
  Image image;        // RGB, when error is empty
  std::string error;  // else what went wrong, for "<path>: <error>"
};
// Refuses images of more than max_pixels before decoding them.
JpegResult decode_jpeg(const uint8_t* data, size_t size, int64_t max_pixels);

}  // namespace gcam::image
