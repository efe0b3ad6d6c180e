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

// Whether the file starts as a BMP ("BM"), a GIF ("GIF8") or a TGA (a header stb recognises: a colour
// map type of 0 or 1 that agrees with the image type, and a type of 1, 2, 3, 9, 10 or 11). read_image
// hands stb_image these and no other kind: stb also decodes PSD, PIC, PNM and HDR files, which gcam does
// not document and whose cut files it does not check.
bool is_bmp_tga_or_gif(const uint8_t* bytes, uint64_t size);

// The bytes the file needs (more than `size` when its pixels end early), or nothing for a file that is
// none of those kinds. Reads no byte at or past `size`.
std::optional<uint64_t> pixel_length(const uint8_t* bytes, uint64_t size);

}  // namespace gcam::image
