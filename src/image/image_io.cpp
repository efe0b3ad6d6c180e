// image_io.cpp — decoding (JPEG with libjpeg-turbo, PNG with libpng, GIF with giflib), PNG and .npy output.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "../weights/file_map.h"
#include "gcam/error.h"
#include "gcam/image.h"
#include "jpeg.h"
#include "gif.h"
#include "gif_length.h"
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

Image read_image(const std::string& path, int64_t max_pixels) {
  GCAM_CHECK(max_pixels > 0 && max_pixels <= kMaxPixels, "read_image: a pixel budget from 1 to ", kMaxPixels, ", not ", max_pixels);
  weights::FileMap file(path);  // the same bounds-checked map the checkpoints use
  if (file.size() == 0) file.fail("empty file");
  if (file.size() > (uint64_t{1} << 31)) file.fail("file too large for an image");
  const auto* bytes = file.at(0, file.size(), "image");
  const size_t size = file.size();
  if (is_jpeg(bytes, size)) {  // libjpeg-turbo, as PIL decodes it (src/image/jpeg.cpp)
    JpegResult jpeg = decode_jpeg(bytes, size, max_pixels);
    if (!jpeg.error.empty()) file.fail(jpeg.error);
    return std::move(jpeg.image);
  }
  if (is_png(bytes, size)) {  // libpng, with its checksums (src/image/png_read.cpp)
    PngResult png = decode_png(bytes, size, max_pixels);
    if (!png.error.empty()) file.fail(png.error);
    return std::move(png.image);
  }
  if (is_gif(bytes, size)) {  // giflib (src/image/gif.cpp); a cut file is refused by its block walk first
    if (const uint64_t needed = gif_length(bytes, size); needed > size)
      file.fail("the image data ends early (the file needs " + std::to_string(needed) + " bytes, it has " +
                std::to_string(size) + ")");
    GifResult gif = decode_gif(bytes, size, max_pixels);
    if (!gif.error.empty()) file.fail(gif.error);
    return std::move(gif.image);
  }
  if (size >= 2 && bytes[0] == 'B' && bytes[1] == 'M')
    file.fail("BMP images are not read (the only decoder at hand has known vulnerabilities); convert it to PNG");
  file.fail("not a PNG, JPEG or GIF image");
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
