// image_io.cpp — decoding (JPEG with libjpeg-turbo, PNG with libpng, the rest with stb_image after
// checking the size and the length each announces), PNG and .npy output.
#include <stb/stb_image.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "../weights/file_map.h"
#include "gcam/error.h"
#include "gcam/image.h"
#include "jpeg.h"
#include "pixel_length.h"
#include "png_read.h"

namespace gcam::image {

namespace {

// Writes `bytes` to path via path.partial and a rename: a reader never sees half a file.
template <typename Write>
void write_atomically(const std::string& path, Write write) {
  const std::string temporary = path + ".partial";
  if (!write(temporary)) {
    std::remove(temporary.c_str());
    throw InputError(path + ": cannot write: " + std::strerror(errno));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw InputError(path + ": cannot write: " + std::strerror(errno));
  }
}

}  // namespace

Image read_image(const std::string& path) {
  weights::FileMap file(path);  // the same bounds-checked map the checkpoints use
  if (file.size() == 0) file.fail("empty file");
  if (file.size() > (uint64_t{1} << 31)) file.fail("file too large for an image");
  const auto* bytes = file.at(0, file.size(), "image");
  const bool jpeg_file = is_jpeg(bytes, file.size());
  if (jpeg_file) {  // libjpeg-turbo, as PIL decodes it (src/image/jpeg.cpp)
    JpegResult jpeg = decode_jpeg(bytes, file.size(), kMaxPixels);
    if (!jpeg.error.empty()) file.fail(jpeg.error);
    if (!jpeg.cmyk) return std::move(jpeg.image);
    // CMYK or YCCK: stb_image converts those to RGB (below).
  }
  if (is_png(bytes, file.size())) {  // libpng, with its checksums (src/image/png_read.cpp)
    PngResult png = decode_png(bytes, file.size(), kMaxPixels);
    if (!png.error.empty()) file.fail(png.error);
    return std::move(png.image);
  }
  if (!jpeg_file && !is_bmp_tga_or_gif(bytes, file.size()))
    file.fail("not a PNG, JPEG, BMP, TGA or GIF image");
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes, static_cast<int>(file.size()), &width, &height, &channels))
    file.fail(std::string("not a readable image (") + stbi_failure_reason() + ")");
  if (width <= 0 || height <= 0 || int64_t(width) * height > kMaxPixels)
    file.fail("image of " + std::to_string(width) + "×" + std::to_string(height) + " pixels is too large");
  if (const std::optional<uint64_t> needed = pixel_length(bytes, file.size()); needed && *needed > file.size())
    file.fail("the image data ends early (the file needs " + std::to_string(*needed) + " bytes, it has " +
              std::to_string(file.size()) + ")");
  std::unique_ptr<uint8_t, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes, static_cast<int>(file.size()), &width, &height, &channels, 3), stbi_image_free);
  if (!pixels) file.fail(std::string("cannot decode the image (") + stbi_failure_reason() + ")");
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.assign(pixels.get(), pixels.get() + int64_t(width) * height * 3);
  return image;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_atomically(path, [&](const std::string& to) {
    FILE* f = std::fopen(to.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return (std::fclose(f) == 0) && ok;
  });
}

void write_png(const std::string& path, const Image& image) {
  GCAM_CHECK(image.width > 0 && image.height > 0 && int64_t(image.rgb.size()) == image.width * image.height * 3,
             path, ": not a complete RGB image");
  write_file(path, encode_png(image));  // src/image/png.cpp
}

std::vector<uint8_t> encode_npy(const float* data, const std::vector<int64_t>& shape) {
  // NumPy format 1.0: magic, version, u16 header length, a Python dict literal padded to 64 bytes,
  // then the values (little-endian float32, as this machine stores them).
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  int64_t count = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    dict += std::to_string(shape[d]) + (shape.size() == 1 || d + 1 < shape.size() ? "," : "");
    if (d + 1 < shape.size()) dict += " ";
    count *= shape[d];
  }
  dict += "), }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  const uint16_t length = static_cast<uint16_t>(dict.size());
  const uint8_t magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(length & 0xFF),
                             static_cast<uint8_t>(length >> 8)};
  std::vector<uint8_t> bytes(sizeof magic + dict.size() + static_cast<size_t>(count) * sizeof(float));
  std::memcpy(bytes.data(), magic, sizeof magic);
  std::memcpy(bytes.data() + sizeof magic, dict.data(), dict.size());
  std::memcpy(bytes.data() + sizeof magic + dict.size(), data, static_cast<size_t>(count) * sizeof(float));
  return bytes;
}

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  write_file(path, encode_npy(data, shape));
}

}  // namespace gcam::image
