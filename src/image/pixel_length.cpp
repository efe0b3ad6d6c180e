// pixel_length.cpp — see pixel_length.h. All three formats are little-endian.
#include "pixel_length.h"

#include <cstdlib>
#include <cstring>

namespace gcam::image {

namespace {

uint64_t u16(const uint8_t* p) { return uint64_t{p[0]} | uint64_t{p[1]} << 8; }
uint64_t u32(const uint8_t* p) { return u16(p) | u16(p + 2) << 16; }

std::optional<uint64_t> bmp_length(const uint8_t* b, uint64_t size) {
  if (size < 26) return 26;  // the smallest header (the core one) ends at byte 26
  const uint64_t offset = u32(b + 10), header = u32(b + 14);
  uint64_t width = 0, height = 0, bits = 0;
  if (header == 12) {  // the OS/2 core header: 16-bit sizes, no compression
    width = u16(b + 18), height = u16(b + 20), bits = u16(b + 24);
  } else {
    if (size < 34) return 34;  // the others' compression field ends at byte 34
    const uint64_t compression = u32(b + 30);
    if (compression != 0 && compression != 3) return std::nullopt;  // stb decodes neither RLE
    width = u32(b + 18), bits = u16(b + 28);
    height = static_cast<uint64_t>(std::llabs(static_cast<int32_t>(u32(b + 22))));  // < 0: rows top-down
  }
  // (sizes beyond any image read_image takes, which would overflow the product below: stb decides)
  if (width > (uint64_t{1} << 31) || height > (uint64_t{1} << 31) || width * height > (uint64_t{1} << 40) || bits > 64)
    return std::nullopt;
  return offset + (bits * width + 31) / 32 * 4 * height;
}

// A TGA as stb recognises one (the second byte also rules out every other format stb reads: their
// magic numbers have a second byte above 1).
bool is_tga(const uint8_t* b, uint64_t size) {
  if (size < 3) return false;
  const uint8_t map_type = b[1], type = b[2];
  const bool palette = type == 1 || type == 9;
  return map_type <= 1 && (map_type == 1) == palette && (type == 1 || type == 2 || type == 3 || (type >= 9 && type <= 11));
}

std::optional<uint64_t> tga_length(const uint8_t* b, uint64_t size) {
  if (!is_tga(b, size)) return std::nullopt;
  const uint64_t id = b[0], map_type = b[1], type = b[2];
  const bool runs = type >= 9;
  if (size < 18) return 18;  // the header itself is cut short
  const uint64_t map_length = u16(b + 5), map_bits = b[7], width = u16(b + 12), height = u16(b + 14), bits = b[16];
  const uint64_t pixel = (bits + 7) / 8, first = 18 + id + (map_type == 1 ? map_length * ((map_bits + 7) / 8) : 0);
  if (!runs) return first + width * height * pixel;
  uint64_t at = first, covered = 0;
  while (covered < width * height) {
    if (at >= size) return at + 1;  // a packet's header past the end
    const uint64_t n = (b[at] & 0x7F) + 1;
    at += 1 + (b[at] & 0x80 ? pixel : n * pixel);
    covered += n;
  }
  return at;
}

// Past a run of GIF sub-blocks starting at `at` (each a length byte n, then n bytes; n = 0 ends them):
// where the run ends, or a place past `size` where it is cut short.
uint64_t past_sub_blocks(const uint8_t* b, uint64_t size, uint64_t at) {
  while (at < size && b[at] != 0) at += 1 + b[at];
  return at + 1;
}

std::optional<uint64_t> gif_length(const uint8_t* b, uint64_t size) {
  if (size < 13) return 13;  // the signature and the logical screen descriptor
  const auto table = [](uint8_t packed) { return packed & 0x80 ? uint64_t{3} << ((packed & 7) + 1) : 0; };
  uint64_t at = 13 + table(b[10]);  // past the global colour table
  while (at < size) {
    if (b[at] == 0x3B) return at + 1;  // the trailer: the file is whole
    if (b[at] == 0x21) {               // an extension: its label, then sub-blocks
      at = past_sub_blocks(b, size, at + 2);
    } else if (b[at] == 0x2C) {        // an image: its descriptor, a local colour table, the LZW code size, sub-blocks
      if (at + 10 > size) return at + 10;
      at = past_sub_blocks(b, size, at + 10 + table(b[at + 9]) + 1);
    } else {
      return std::nullopt;  // not a block GIF knows: stb decides
    }
  }
  return at + 1;  // cut before the trailer
}

bool is_bmp(const uint8_t* b, uint64_t size) { return size >= 2 && b[0] == 'B' && b[1] == 'M'; }
bool is_gif(const uint8_t* b, uint64_t size) { return size >= 4 && std::memcmp(b, "GIF8", 4) == 0; }

}  // namespace

bool is_bmp_tga_or_gif(const uint8_t* bytes, uint64_t size) {
  return is_bmp(bytes, size) || is_gif(bytes, size) || is_tga(bytes, size);
}

std::optional<uint64_t> pixel_length(const uint8_t* bytes, uint64_t size) {
  if (is_bmp(bytes, size)) return bmp_length(bytes, size);
  if (is_gif(bytes, size)) return gif_length(bytes, size);
  return tga_length(bytes, size);
}

}  // namespace gcam::image
