// gif_length.cpp — see gif_length.h. GIF is little-endian; only single bytes are read here.
#include "gif_length.h"

namespace gcam::image {

namespace {

// Past a run of GIF sub-blocks starting at `at` (each a length byte n, then n bytes; n = 0 ends them):
// where the run ends, or a place past `size` where it is cut short.
uint64_t past_sub_blocks(const uint8_t* b, uint64_t size, uint64_t at) {
  while (at < size && b[at] != 0) at += 1 + b[at];
  return at + 1;
}

}  // namespace

uint64_t gif_length(const uint8_t* b, uint64_t size) {
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
      return size;  // not a block GIF knows: giflib decides
    }
  }
  return at + 1;  // cut before the trailer
}

}  // namespace gcam::image
