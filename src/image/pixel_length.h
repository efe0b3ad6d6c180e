// pixel_length.h — how long a BMP, TGA or GIF file must be to hold the pixels its header announces
// (internal to src/image). stb_image reads past the end of such a file as zeros, so a file cut short would
// decode to a picture with a black band at the bottom; read_image refuses it instead, as it refuses a PNG
// or JPEG cut short.
//
//   BMP (uncompressed or bit fields; stb decodes no other kind): the pixel data's offset (bytes 10–13)
//       + |height| rows of ⌈bits·width / 32⌉·4 bytes
//   TGA, uncompressed (types 1, 2, 3): 18 + the id's length + the colour map + width·height·⌈bits / 8⌉;
//       run-length encoded (types 9, 10, 11): the packets walked until they cover width·height pixels
//       (a packet: a byte n, then one pixel repeated n − 127 times if n ≥ 128, else n + 1 pixels)
//   GIF: its blocks walked to the trailer (0x3B): the header and the global colour table, then
//       extensions (0x21, a label, sub-blocks) and images (0x2C, a 9-byte descriptor, a local colour
//       table, the LZW code size, sub-blocks); a run of sub-blocks is length-prefixed and ends with a 0
#pragma once

#include <cstdint>
#include <optional>

namespace gcam::image {

// The bytes the file needs (more than `size` when its pixels end early), or nothing for a file that is
// none of those kinds. Reads no byte at or past `size`.
std::optional<uint64_t> pixel_length(const uint8_t* bytes, uint64_t size);

}  // namespace gcam::image
