// gcam/image.h — images in and out, and the preprocessing that turns them into network input.
//
// Reading uses a maintained library per format: libjpeg-turbo for JPEG (as PIL does: the same pixels,
// CMYK included), libpng for PNG (every chunk's CRC and the data's Adler-32 checked: a damaged PNG is
// refused) and giflib for GIF (the first frame, as PIL shows it); grayscale becomes RGB, alpha is dropped.
// BMP and TGA are refused: their only decoder here was a 2022 stb_image with known vulnerabilities. A
// file cut short is refused (GIF by a walk of its blocks to the trailer). Every decoder stops at a pixel
// budget before allocating the picture, and PNG and JPEG also at what the file's length could hold.
// Writing PNG uses gcam's own encoder over zlib
// (src/image/png.cpp: about 4× faster than stb_image_write, and 22% smaller files, on explain's
// pictures). Colours are RGB everywhere. Preprocessing presets:
//   imagenet  resize the shorter side to `resize` (256; 232 for the V2 ResNet weights) with an
//             antialiased bilinear filter (PIL's, which torchvision's published accuracies use), centre-crop
//             `crop` (224; top = round((H − 224)/2), halves to even, as Python's round), /255, ImageNet mean/std
//   none      the image is already the network input: only /255 and mean/std
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gcam/tensor.h"

namespace gcam::image {

// 8-bit RGB, row-major, 3 bytes per pixel.
struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// The pixel budget: an image with more pixels is refused before its picture is allocated. The default,
// 2^26 (67 MP: 8192 × 8192, a 48 MP phone photo) keeps a decoded picture within 200 MB; explain's
// --max-pixels raises it up to kMaxPixels (1 GP: 3 GB of RGB).
constexpr int64_t kDefaultMaxPixels = int64_t{1} << 26;
constexpr int64_t kMaxPixels = int64_t{1} << 30;

// InputError "<path>: …" on a bad file, or one of more than max_pixels (at most kMaxPixels) pixels.
Image read_image(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);
void write_png(const std::string& path, const Image& image);     // atomically (temporary file + rename)
std::vector<uint8_t> encode_png(const Image& image);              // the PNG file's bytes (8-bit RGB)
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);  // atomically, as above
// A float32 array as NumPy's .npy (little-endian, C order), atomically; or the file's bytes.
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);
std::vector<uint8_t> encode_npy(const float* data, const std::vector<int64_t>& shape);

struct Preprocess {
  bool resize_and_crop = true;  // false: the "none" preset
  int64_t resize = 256;
  int64_t crop = 224;
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
};

// Antialiased bilinear resize to exactly (width, height).
Image resize(const Image& image, int64_t width, int64_t height);
// The image the network sees (resized and cropped, or as it is), still 8-bit RGB.
Image network_view(const Image& image, const Preprocess& preprocess);
// (N, 3, H, W) float input from network views of equal size: (v/255 − mean) / std.
Tensor to_input(const std::vector<Image>& views, const Preprocess& preprocess);

}  // namespace gcam::image
