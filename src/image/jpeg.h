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

// The most scans a progressive file may have: libjpeg's own progressive script writes 10, and each scan
// costs a pass over every block, so hundreds of empty scans in a few KB took seconds.
constexpr int kMaxJpegScans = 100;

// Any JPEG as 8-bit RGB, as PIL's convert("RGB") makes it (greyscale repeated; CMYK and YCCK through
// PIL's own CMYK → RGB arithmetic, Adobe's inverted CMYK undone as PIL does). Refused before anything
// large is allocated: more than max_pixels; more pixels than a Huffman-coded file of this length could
// hold (each 8×8 block costs at least one bit); more than kMaxJpegScans scans. libjpeg's own buffers are
// capped (the coefficients of a progressive file: at most 8 bytes a pixel).
JpegResult decode_jpeg(const uint8_t* data, size_t size, int64_t max_pixels);

}  // namespace gcam::image
