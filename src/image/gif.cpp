// gif.cpp — GIF decoding with giflib, the reference GIF library (maintained, in Debian as libgif), through
// its low-level API: records are read one by one, the first image's lines decoded into one line buffer and
// drawn straight into the RGB picture, so nothing the size of a frame is allocated by the library.
#include "gif.h"

#include <gif_lib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace gcam::image {

namespace {

// The file in memory, read by giflib through read_bytes.
struct Source {
  const uint8_t* data;
  size_t size, at;
};

int read_bytes(GifFileType* gif, GifByteType* out, int count) {
  Source* s = static_cast<Source*>(gif->UserData);
  const size_t n = std::min(static_cast<size_t>(count), s->size - s->at);
  std::memcpy(out, s->data + s->at, n);
  s->at += n;
  return static_cast<int>(n);
}

struct Closer {
  void operator()(GifFileType* gif) const { DGifCloseFile(gif, nullptr); }
};

std::string failure(int code) {
  const char* why = GifErrorString(code);
  return std::string("cannot decode the image (") + (why ? why : "GIF error") + ")";
}

}  // namespace

bool is_gif(const uint8_t* data, size_t size) {
  return size >= 6 && (std::memcmp(data, "GIF87a", 6) == 0 || std::memcmp(data, "GIF89a", 6) == 0);
}

GifResult decode_gif(const uint8_t* data, size_t size, int64_t max_pixels) {
  GifResult r;
  Source source{data, size, 0};
  int code = 0;
  std::unique_ptr<GifFileType, Closer> gif(DGifOpen(&source, read_bytes, &code));
  if (!gif) return r.error = failure(code), r;
  const int64_t width = gif->SWidth, height = gif->SHeight;
  if (width <= 0 || height <= 0 || width * height > max_pixels) {
    r.error = "image of " + std::to_string(width) + "×" + std::to_string(height) + " pixels is too large: over the pixel budget of " +
              std::to_string(max_pixels) + " (--max-pixels)";
    return r;
  }
  int transparent = -1;  // the transparent index of the graphic control extension before the first image
  while (true) {
    GifRecordType record;
    if (DGifGetRecordType(gif.get(), &record) == GIF_ERROR) return r.error = failure(gif->Error), r;
    if (record == TERMINATE_RECORD_TYPE) return r.error = "a GIF without an image", r;
    if (record == EXTENSION_RECORD_TYPE) {
      int label = 0;
      GifByteType* block = nullptr;
      if (DGifGetExtension(gif.get(), &label, &block) == GIF_ERROR) return r.error = failure(gif->Error), r;
      // Graphic control: length 4, then flags (bit 0: a transparent index is given), delay, the index.
      if (label == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4 && (block[1] & 1)) transparent = block[4];
      while (block) {
        if (DGifGetExtensionNext(gif.get(), &block) == GIF_ERROR) return r.error = failure(gif->Error), r;
      }
      continue;
    }
    if (record != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif.get()) == GIF_ERROR) return r.error = failure(gif->Error), r;
    break;
  }
  const GifImageDesc& frame = gif->Image;
  const ColorMapObject* table = frame.ColorMap ? frame.ColorMap : gif->SColorMap;
  const auto colour = [&](int index, uint8_t* rgb) {
    if (!table) {
      rgb[0] = rgb[1] = rgb[2] = static_cast<uint8_t>(index);
    } else if (index < table->ColorCount) {
      const GifColorType& c = table->Colors[index];
      rgb[0] = c.Red, rgb[1] = c.Green, rgb[2] = c.Blue;
    } else {
      rgb[0] = rgb[1] = rgb[2] = 0;  // past the table's end: PIL's palette holds zeros there
    }
  };
  // The picture, filled with index 0 or the transparent index (Pillow's frame 0), then the frame drawn in.
  r.image.width = width;
  r.image.height = height;
  r.image.rgb.resize(static_cast<size_t>(width * height) * 3);
  uint8_t fill[3];
  colour(transparent >= 0 ? transparent : 0, fill);
  for (size_t i = 0; i < r.image.rgb.size(); i += 3) std::memcpy(&r.image.rgb[i], fill, 3);
  if (frame.Width <= 0 || frame.Height <= 0) return r;
  std::vector<GifPixelType> line(static_cast<size_t>(frame.Width));
  // Interlaced frames store rows 0, 8, 16, …; then 4, 12, …; 2, 6, …; 1, 3, … (GIF89a appendix E).
  static const int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
  const auto draw = [&](int row) -> bool {
    if (DGifGetLine(gif.get(), line.data(), frame.Width) == GIF_ERROR) return false;
    const int64_t y = int64_t{frame.Top} + row;
    if (y < 0 || y >= height) return true;  // off the screen: PIL crops it too
    for (int x = 0; x < frame.Width; ++x) {
      const int64_t sx = int64_t{frame.Left} + x;
      if (sx >= 0 && sx < width) colour(line[x], &r.image.rgb[static_cast<size_t>(y * width + sx) * 3]);
    }
    return true;
  };
  bool ok = true;
  if (frame.Interlace) {
    for (int pass = 0; pass < 4 && ok; ++pass)
      for (int row = kStart[pass]; row < frame.Height && ok; row += kStep[pass]) ok = draw(row);
  } else {
    for (int row = 0; row < frame.Height && ok; ++row) ok = draw(row);
  }
  if (!ok) {
    r.image = Image{};
    r.error = gif->Error == D_GIF_ERR_READ_FAILED ? "the GIF data ends early" : failure(gif->Error);
  }
  return r;
}

}  // namespace gcam::image
