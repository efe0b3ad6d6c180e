// jpeg.cpp — JPEG decoding with libjpeg-turbo, the decoder PIL uses (so torchvision's preprocessing sees
// the same pixels): its default, accurate integer IDCT and smooth chroma upsampling, as PIL leaves them.
//
// libjpeg reports a fatal error by calling error_exit, which must not return; the usual way out is
// longjmp. Only plain C objects live between the setjmp and any longjmp here: the pixels go to a buffer
// the caller owns, whose frame no jump crosses.
#include "jpeg.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

namespace gcam::image {

namespace {

struct Errors {
  jpeg_error_mgr base;  // first: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf escape;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

[[noreturn]] void on_error(j_common_ptr info) {
  Errors* e = reinterpret_cast<Errors*>(info->err);
  (*info->err->format_message)(info, e->message);
  std::longjmp(e->escape, 1);
}

// Warnings are let pass (PIL ignores them too), except that the data ended early: libjpeg would fill the
// rest of the picture with grey, and PIL refuses such a file.
void on_message(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) reinterpret_cast<Errors*>(info->err)->truncated = true;
}

// Called by libjpeg as it works through the file: stops it at scan kMaxJpegScans + 1 (as djpeg's
// -maxscans does).
void on_progress(j_common_ptr info) {
  const auto* decompress = reinterpret_cast<j_decompress_ptr>(info);
  if (decompress->input_scan_number > kMaxJpegScans) {
    Errors* e = reinterpret_cast<Errors*>(info->err);
    std::snprintf(e->message, JMSG_LENGTH_MAX, "more than %d scans", kMaxJpegScans);
    std::longjmp(e->escape, 1);
  }
}

// PIL's CMYK → RGB (Convert.c, cmyk2rgb): with k' = 255 − k, each channel is k' − round(c·k' / 255),
// the division by 255 done as ((t >> 8) + t) >> 8 with t = c·k' + 128. An Adobe file stores CMYK
// inverted, and PIL reads it so ("CMYK;I"), as libjpeg hands it over.
void cmyk_row_to_rgb(const uint8_t* cmyk, uint8_t* rgb, size_t width, bool inverted) {
  const auto muldiv255 = [](int a, int b) {
    const int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (size_t x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const int k = inverted ? 255 - cmyk[3] : cmyk[3], not_k = 255 - k;
    for (int c = 0; c < 3; ++c) {
      const int ink = inverted ? 255 - cmyk[c] : cmyk[c];
      const int v = not_k - muldiv255(ink, not_k);
      rgb[c] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
}

struct Header {
  int width = 0, height = 0;
  bool arithmetic = false;
  bool four_channels = false;  // CMYK or YCCK
};

// pixels == nullptr: reads the header only. cmyk_row: room for one row of four-channel samples, when
// the header said four_channels. Returns false with `message` set on any failure.
bool run(const uint8_t* data, size_t size, int64_t max_pixels, Header* header, uint8_t* pixels, uint8_t* cmyk_row,
         char* message) {
  jpeg_decompress_struct info;
  Errors errors;
  jpeg_progress_mgr progress{};
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = on_error;
  errors.base.emit_message = on_message;
  errors.truncated = false;
  if (setjmp(errors.escape)) {
    std::snprintf(message, JMSG_LENGTH_MAX, "%s", errors.message);
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  progress.progress_monitor = on_progress;
  info.progress = &progress;
  // libjpeg's whole-image buffers (a progressive file's coefficients: 2 bytes each, up to 3 × 64 a block
  // of 64 pixels) within 8 bytes a pixel of the budget, plus room for its tables.
  info.mem->max_memory_to_use = static_cast<long>(max_pixels * 8 + (int64_t{16} << 20));
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  header->width = static_cast<int>(info.image_width);
  header->height = static_cast<int>(info.image_height);
  header->arithmetic = info.arith_code;
  const bool four_channels = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  header->four_channels = four_channels;
  info.out_color_space = four_channels ? JCS_CMYK : JCS_RGB;  // greyscale pictures become RGB too
  if (pixels) {
    jpeg_start_decompress(&info);
    const size_t width = info.output_width, stride = width * 3;
    while (info.output_scanline < info.output_height && !errors.truncated) {
      uint8_t* out = pixels + info.output_scanline * stride;
      JSAMPROW row = four_channels ? cmyk_row : out;
      jpeg_read_scanlines(&info, &row, 1);
      if (four_channels) cmyk_row_to_rgb(cmyk_row, out, width, info.saw_Adobe_marker);
    }
    if (!errors.truncated) jpeg_finish_decompress(&info);
  }
  jpeg_destroy_decompress(&info);
  if (errors.truncated) {
    std::snprintf(message, JMSG_LENGTH_MAX, "the JPEG data ends early");
    return false;
  }
  return true;
}

}  // namespace

bool is_jpeg(const uint8_t* data, size_t size) { return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF; }

JpegResult decode_jpeg(const uint8_t* data, size_t size, int64_t max_pixels) {
  JpegResult r;
  char message[JMSG_LENGTH_MAX] = {};
  Header header;
  if (!run(data, size, max_pixels, &header, nullptr, nullptr, message)) {
    r.error = std::string("cannot decode the image (") + message + ")";
    return r;
  }
  const int64_t width = header.width, height = header.height, pixels = width * height;
  if (width <= 0 || height <= 0 || pixels > max_pixels) {
    r.error = "image of " + std::to_string(width) + "×" + std::to_string(height) + " pixels is too large: over the pixel budget of " +
              std::to_string(max_pixels) + " (--max-pixels)";
    return r;
  }
  // Huffman coding spends at least one bit on every 8×8 block of the first component (its DC
  // coefficient, in the first scan that holds it): a file of n bytes holds at most 8n blocks, 512n pixels.
  // (Arithmetic coding can spend less: such files are held to the pixel budget alone.)
  if (!header.arithmetic && static_cast<uint64_t>(pixels) > 512 * static_cast<uint64_t>(size)) {
    r.error = "a JPEG of " + std::to_string(size) + " bytes cannot hold " + std::to_string(width) + "×" +
              std::to_string(height) + " pixels (truncated, or a forged size)";
    return r;
  }
  r.image.width = width;
  r.image.height = height;
  r.image.rgb.resize(static_cast<size_t>(pixels) * 3);
  std::vector<uint8_t> cmyk_row(header.four_channels ? static_cast<size_t>(width) * 4 : 0);
  if (!run(data, size, max_pixels, &header, r.image.rgb.data(), cmyk_row.data(), message)) {
    r.image = Image{};
    r.error = std::string("cannot decode the image (") + message + ")";
  }
  return r;
}

}  // namespace gcam::image
