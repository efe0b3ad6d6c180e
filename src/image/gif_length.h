// gif_length.h — how long a GIF file must be to hold the blocks it announces (internal to src/image).
// A GIF cut short would decode to a picture with its missing rows filled in; read_image refuses it
// instead, as it refuses a PNG or JPEG cut short.
//
//   the blocks walked to the trailer (0x3B): the header and the global colour table, then extensions
//   (0x21, a label, sub-blocks) and images (0x2C, a 9-byte descriptor, a local colour table, the LZW
//   code size, sub-blocks); a run of sub-blocks is length-prefixed and ends with a 0
#pragma once

#include <cstdint>

namespace gcam::image {

// The bytes the GIF needs: more than `size` when it is cut short, `size` or less when its trailer is
// there (or a block GIF does not know comes first: giflib decides). Reads no byte at or past `size`.
uint64_t gif_length(const uint8_t* bytes, uint64_t size);

}  // namespace gcam::image
