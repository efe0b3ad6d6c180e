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

// pixels == nullptr: reads the header only. Returns false with `message` set on any failure. *cmyk: the
// file holds four-channel (CMYK or YCCK) data, which libjpeg does not turn into RGB; nothing is decoded.
bool run(const uint8_t* data, size_t size, int* width, int* height, bool* cmyk, uint8_t* pixels, char* message) {
  jpeg_decompress_struct info;
  Errors errors;
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
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  info.out_color_space = JCS_RGB;  // greyscale pictures become RGB too
  *width = static_cast<int>(info.image_width);
  *height = static_cast<int>(info.image_height);
  *cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  if (pixels && !*cmyk) {
    jpeg_start_decompress(&info);
    const size_t stride = static_cast<size_t>(info.output_width) * 3;
    while (info.output_scanline < info.output_height) {
      JSAMPROW row = pixels + info.output_scanline * stride;
      jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
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
  int width = 0, height = 0;
  bool cmyk = false;
  if (!run(data, size, &width, &height, &cmyk, nullptr, message)) {
    r.error = std::string("cannot decode the image (") + message + ")";
    return r;
  }
  if (cmyk) {
    r.cmyk = true;
    return r;
  }
  if (width <= 0 || height <= 0 || int64_t(width) * height > max_pixels) {
    r.error = "image of " + std::to_string(width) + "×" + std::to_string(height) + " pixels is too large";
    return r;
  }
  r.image.width = width;
  r.image.height = height;
  r.image.rgb.resize(static_cast<size_t>(width) * height * 3);
  if (!run(data, size, &width, &height, &cmyk, r.image.rgb.data(), message)) {
    r.image = Image{};
    r.error = std::string("cannot decode the image (") + message + ")";
  }
  return r;
}

}  // namespace gcam::image
