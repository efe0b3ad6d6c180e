// png_read.cpp — PNG decoding with libpng, the reference PNG library: it checks every chunk's CRC-32 and
// the image data's Adler-32 (stb_image, which gcam used before, checks neither, so a damaged PNG decoded
// to wrong pixels, or to pixels that depended on uninitialised memory), and handles every colour type,
// bit depth and Adam7 interlacing.
//
// libpng reports a fatal error by longjmp to png_jmpbuf. As in jpeg.cpp, only plain C objects live
// between the setjmp and any longjmp: the pixels go to an Image the caller owns, whose frame no jump
// crosses.
#include "png_read.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>

namespace gcam::image {

namespace {

// The file in memory, read by libpng through read_bytes.
struct Source {
  const uint8_t* data;
  size_t size, at;
  char message[160];
};

void read_bytes(png_structp png, png_bytep out, size_t count) {
  Source* s = static_cast<Source*>(png_get_io_ptr(png));
  if (count > s->size - s->at) png_error(png, "the PNG data ends early");
  std::memcpy(out, s->data + s->at, count);
  s->at += count;
}

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  Source* s = static_cast<Source*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // ancillary trouble (a bad iCCP, say): PIL reads on too

// Decodes the file into *out (its buffer allocated here, once the header has given the size), in one
// pass over the file. Returns false with s->message set on any failure.
bool run(Source* s, Image* out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(s->message, sizeof s->message, "out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, s, read_bytes);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);  // PNG's own limits: decode_png checks the pixel count
  png_read_info(png, info);
  const uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  // To 8-bit RGB: palettes and sub-byte grey expanded, 16-bit samples cut to their high byte, grey made
  // RGB, alpha dropped; Adam7 passes merged by libpng (png_read_row once per pass and row).
  const int colour = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  if (!(colour & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != size_t{width} * 3) png_error(png, "unexpected row layout");
  try {  // no exception may cross libpng's frames: a failed allocation becomes libpng's error
    out->rgb.resize(size_t{width} * height * 3);
  } catch (const std::bad_alloc&) {
    png_error(png, "out of memory");
  }
  out->width = width, out->height = height;
  for (int pass = 0; pass < passes; ++pass)
    for (uint32_t y = 0; y < height; ++y) png_read_row(png, out->rgb.data() + size_t{y} * width * 3, nullptr);
  png_read_end(png, nullptr);  // the chunks after the image, through IEND: their CRCs, and a whole file
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

bool is_png(const uint8_t* data, size_t size) { return size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0; }

PngResult decode_png(const uint8_t* data, size_t size, int64_t max_pixels) {
  PngResult r;
  // The size first, from IHDR (always the first chunk, its width and height at bytes 16–23, big-endian):
  // an image too large is said so plainly even when the rest of the file is missing.
  if (size >= 24) {
    const auto u32 = [&](size_t at) {
      return uint64_t{data[at]} << 24 | uint64_t{data[at + 1]} << 16 | uint64_t{data[at + 2]} << 8 | data[at + 3];
    };
    const uint64_t width = u32(16), height = u32(20), pixels = width * height;
    if (pixels > static_cast<uint64_t>(max_pixels)) {
      r.error = "image of " + std::to_string(width) + "×" + std::to_string(height) +
                " pixels is too large: over the pixel budget of " + std::to_string(max_pixels) + " (--max-pixels)";
      return r;
    }
    // Deflate expands one byte into at most 1032 (RFC 1951: a 258-byte match per 2-bit code, at best),
    // so the file must be at least 1/1032 of the image's raw samples: a forged size is refused here,
    // before the picture is allocated, not after libpng finds the data missing.
    if (size >= 26) {
      static const uint64_t kChannels[7] = {1, 0, 3, 1, 2, 0, 4};  // by colour type (IHDR byte 25)
      const uint64_t depth = data[24], channels = data[25] < 7 ? kChannels[data[25]] : 0;
      if ((pixels * depth * channels + 7) / 8 > 1032 * static_cast<uint64_t>(size)) {
        r.error = "a PNG of " + std::to_string(size) + " bytes cannot hold " + std::to_string(width) + "×" +
                  std::to_string(height) + " pixels (truncated, or a forged size)";
        return r;
      }
    }
  }
  // (libpng insists that IHDR comes first: the size it decodes is the one checked above.)
  Source source{data, size, 0, {}};
  if (!run(&source, &r.image)) {
    r.image = Image{};
    r.error = std::string("cannot decode the image (") + source.message + ")";
  }
  return r;
}

}  // namespace gcam::image
