// test_bad_inputs.cpp — bad input never crashes: the files a user hands `explain` (the checkpoint and
// the pictures: PNG, JPEG, BMP, TGA, GIF), cut short at every length and changed byte by byte (support/mutations.h), are read or
// refused with one InputError line naming the file — never another exception, a crash or a hang.
//
// Each file is read as explain reads it: a checkpoint opened, its model card read, its model built and
// every weight loaded strictly; a picture decoded, cropped to the shipped model's view and made into
// network input. The pickled checkpoints (PyTorch's zip and legacy formats) are swept in
// test_weights.cpp, beside the PyTorch-written files they start from.
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gcam/error.h"
#include "gcam/image.h"
#include "gcam/model_card.h"
#include "gcam/models.h"
#include "gcam/weights.h"
#include "support/mutations.h"

namespace gcam {
namespace {

const std::string kSourceDir = GCAM_SOURCE_DIR;

// explain's loading: the card, the architecture it names, the classifier's rows, every weight.
void load_as_explain_does(const std::string& path) {
  const auto checkpoint = weights::Checkpoint::open(path);
  const ModelCard card = read_model_card(*checkpoint);
  if (card.architecture.empty()) throw InputError(path + ": cannot tell the architecture");
  const weights::StoredTensor* fc = checkpoint->find("fc.weight");
  const int64_t classes = fc && !fc->shape.empty() ? fc->shape[0] : 1000;
  auto model = models::make_model(card.architecture, classes);
  models::load_weights(*model, *checkpoint);
}

// explain's decoding, with the shipped model's preprocessing (64×64: each mutant costs little).
void decode_as_explain_does(const std::string& path) {
  image::Preprocess pre;
  pre.resize = 64, pre.crop = 64;
  const Tensor input = image::to_input({image::network_view(image::read_image(path), pre)}, pre);
  ASSERT_EQ(input.shape(), Shape({1, 3, 64, 64}));
}

// The file as JPEG (libjpeg-turbo's encoder, quality 90), baseline or progressive.
std::vector<uint8_t> encode_jpeg(const image::Image& picture, bool progressive) {
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = static_cast<JDIMENSION>(picture.width);
  info.image_height = static_cast<JDIMENSION>(picture.height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 90, TRUE);
  if (progressive) jpeg_simple_progression(&info);
  jpeg_start_compress(&info, TRUE);
  for (int64_t y = 0; y < picture.height; ++y) {
    JSAMPROW row = const_cast<JSAMPROW>(&picture.rgb[static_cast<size_t>(y * picture.width * 3)]);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  jpeg_destroy_compress(&info);
  std::free(buffer);
  return bytes;
}

// Little-endian fields, for the headers below.
void put16(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 2; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// The picture as a 24-bit BMP: a 14-byte file header, a 40-byte BITMAPINFOHEADER, then rows bottom-up,
// blue-green-red, each padded to 4 bytes.
std::vector<uint8_t> encode_bmp(const image::Image& picture) {
  const uint32_t w = static_cast<uint32_t>(picture.width), h = static_cast<uint32_t>(picture.height);
  const uint32_t row = (3 * w + 3) / 4 * 4, pixels = row * h;
  std::vector<uint8_t> out = {'B', 'M'};
  put32(out, 54 + pixels), put32(out, 0), put32(out, 54);                        // size, reserved, offset
  put32(out, 40), put32(out, w), put32(out, h), put16(out, 1), put16(out, 24);  // header, size, planes, bits
  put32(out, 0), put32(out, pixels), put32(out, 2835), put32(out, 2835), put32(out, 0), put32(out, 0);
  for (uint32_t y = h; y-- > 0;) {
    for (uint32_t x = 0; x < w; ++x)
      for (int c = 2; c >= 0; --c) out.push_back(picture.rgb[(static_cast<size_t>(y) * w + x) * 3 + c]);
    out.resize(out.size() + (row - 3 * w), 0);
  }
  return out;
}

// The picture as an uncompressed true-colour TGA (type 2): an 18-byte header, rows top-down (descriptor
// bit 5), blue-green-red.
std::vector<uint8_t> encode_tga(const image::Image& picture) {
  std::vector<uint8_t> out = {0, 0, 2, 0, 0, 0, 0, 0};  // no id, no colour map, type 2
  put16(out, 0), put16(out, 0), put16(out, static_cast<uint32_t>(picture.width)),
      put16(out, static_cast<uint32_t>(picture.height));
  out.push_back(24), out.push_back(0x20);  // bits per pixel, top-left origin
  for (size_t i = 0; i < picture.rgb.size(); i += 3)
    out.insert(out.end(), {picture.rgb[i + 2], picture.rgb[i + 1], picture.rgb[i]});
  return out;
}

// The same, run-length encoded (type 10): each packet a byte n, then one pixel repeated n − 127 times
// (n ≥ 128: runs of 2 to 128 equal pixels) or n + 1 pixels as they are. Packets here stop at row ends.
std::vector<uint8_t> encode_tga_runs(const image::Image& picture) {
  std::vector<uint8_t> out = encode_tga(picture);
  out.resize(18);
  out[2] = 10;
  const auto pixel = [&](int64_t y, int64_t x) {
    const uint8_t* p = &picture.rgb[static_cast<size_t>((y * picture.width + x) * 3)];
    return std::array<uint8_t, 3>{p[2], p[1], p[0]};
  };
  for (int64_t y = 0; y < picture.height; ++y)
    for (int64_t x = 0; x < picture.width;) {
      int64_t same = 1;
      while (x + same < picture.width && same < 128 && pixel(y, x + same) == pixel(y, x)) ++same;
      if (same >= 2) {
        out.push_back(static_cast<uint8_t>(0x80 | (same - 1)));
        for (uint8_t c : pixel(y, x)) out.push_back(c);
        x += same;
        continue;
      }
      int64_t raw = 1;  // up to the next run of two equal pixels
      while (x + raw < picture.width && raw < 128 &&
             !(x + raw + 1 < picture.width && pixel(y, x + raw) == pixel(y, x + raw + 1)))
        ++raw;
      out.push_back(static_cast<uint8_t>(raw - 1));
      for (int64_t i = 0; i < raw; ++i)
        for (uint8_t c : pixel(y, x + i)) out.push_back(c);
      x += raw;
    }
  return out;
}

// The picture as a GIF of 256 colours (red and green in 3 bits, blue in 2: `palette_index`), its pixels
// LZW-coded without compression: 9-bit codes, every one a literal, with a clear code before the decoder's
// table would reach 512 entries and widen its codes (it adds an entry per literal after the first).
uint8_t palette_index(const uint8_t* rgb) { return static_cast<uint8_t>((rgb[0] >> 5) << 5 | (rgb[1] >> 5) << 2 | rgb[2] >> 6); }
std::array<uint8_t, 3> palette_colour(int i) {
  return {static_cast<uint8_t>((i >> 5 & 7) * 255 / 7), static_cast<uint8_t>((i >> 2 & 7) * 255 / 7),
          static_cast<uint8_t>((i & 3) * 255 / 3)};
}
std::vector<uint8_t> encode_gif(const image::Image& picture) {
  std::vector<uint8_t> out = {'G', 'I', 'F', '8', '9', 'a'};
  const uint32_t w = static_cast<uint32_t>(picture.width), h = static_cast<uint32_t>(picture.height);
  put16(out, w), put16(out, h);
  out.insert(out.end(), {0xF7, 0, 0});  // a global colour table of 2^(7+1) entries; background 0; no aspect
  for (int i = 0; i < 256; ++i)
    for (uint8_t c : palette_colour(i)) out.push_back(c);
  out.push_back(0x2C);  // the image: at (0, 0), w × h, no local table, not interlaced
  put16(out, 0), put16(out, 0), put16(out, w), put16(out, h);
  out.push_back(0);
  out.push_back(8);  // LZW's minimum code size: codes 0–255 literals, 256 clear, 257 end
  std::vector<uint8_t> codes;  // the 9-bit codes, packed from the lowest bit up
  uint32_t bits = 0, held = 0;
  const auto emit = [&](uint32_t code) {
    bits |= code << held, held += 9;
    for (; held >= 8; held -= 8, bits >>= 8) codes.push_back(static_cast<uint8_t>(bits));
  };
  for (size_t i = 0; i < picture.rgb.size() / 3; ++i) {
    if (i % 250 == 0) emit(256);
    emit(palette_index(&picture.rgb[i * 3]));
  }
  emit(257);
  if (held > 0) codes.push_back(static_cast<uint8_t>(bits));
  for (size_t at = 0; at < codes.size(); at += 255) {  // sub-blocks of at most 255 bytes, then an empty one
    const size_t n = std::min<size_t>(255, codes.size() - at);
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), codes.begin() + static_cast<std::ptrdiff_t>(at), codes.begin() + static_cast<std::ptrdiff_t>(at + n));
  }
  out.push_back(0);
  out.push_back(0x3B);  // the trailer
  return out;
}

// The mutants must include refused ones: a sweep that refused nothing would not have reached the checks.
void expect_some_refused(const test::MutantCounts& counts) {
  EXPECT_GT(counts.refused, 0);
  EXPECT_GT(counts.read, 0);  // and the original's near relatives (a changed pixel or weight) still read
}

// The shipped checkpoint (1.2 MB): its safetensors header (the 8-byte length and the JSON: names, dtypes,
// shapes, offsets, the model card) byte by byte, its weights every 4099th byte.
TEST(BadInputs, ShippedCheckpointCutOrChangedIsReadOrRefused) {
  const std::string path = kSourceDir + "/weights/fashion_resnet.safetensors";
  const std::vector<uint8_t> bytes = test::file_bytes(path);
  ASSERT_GT(bytes.size(), 8u);
  uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = header << 8 | bytes[static_cast<size_t>(i)];
  ASSERT_LT(header, bytes.size());
  load_as_explain_does(path);  // the original loads
  expect_some_refused(test::expect_read_or_refused("fashion_resnet.safetensors", bytes,
                                                   {static_cast<size_t>(8 + header), 4099}, load_as_explain_does));
}

// A canvas as PNG (12 KB: chunk lengths and CRCs, the zlib header, the deflate stream): its first 1024
// bytes byte by byte, every 5th beyond. Every byte of this file is the signature, a chunk's length, or
// under a chunk's CRC-32 (its chunks are all critical: IHDR, IDAT, IEND), so libpng refuses every change
// too, where stb_image decoded most of them to wrong pixels.
TEST(BadInputs, PngCutOrChangedIsRefused) {
  const std::string path = kSourceDir + "/examples/canvases/test_00000.png";
  decode_as_explain_does(path);
  const std::vector<uint8_t> bytes = test::file_bytes(path);
  const test::MutantCounts counts = test::expect_read_or_refused("canvas.png", bytes, {1024, 5}, decode_as_explain_does);
  EXPECT_EQ(counts.read, 0);
  EXPECT_GT(counts.refused, 0);
}

// The same canvas as baseline and as progressive JPEG (markers, tables, entropy-coded scans), every byte.
TEST(BadInputs, JpegCutOrChangedIsReadOrRefused) {
  const image::Image canvas = image::read_image(kSourceDir + "/examples/canvases/test_00000.png");
  for (bool progressive : {false, true}) {
    const std::vector<uint8_t> bytes = encode_jpeg(canvas, progressive);
    expect_some_refused(test::expect_read_or_refused(progressive ? "progressive.jpg" : "baseline.jpg", bytes,
                                                     {bytes.size()}, decode_as_explain_does));
  }
}

// The same canvas as BMP and TGA (plain and run-length encoded), which explain also reads (stb_image):
// the headers byte by byte, every 7th byte of the pixels. Each decodes to the canvas itself. stb reads
// past the end of these formats as zeros: a cut file is refused by read_image's own length check
// (src/image/pixel_length.h), which the cuts here test.
TEST(BadInputs, BmpAndTgaCutOrChangedAreReadOrRefused) {
  const image::Image canvas = image::read_image(kSourceDir + "/examples/canvases/test_00000.png");
  for (const auto& [name, bytes] : {std::pair{std::string("canvas.bmp"), encode_bmp(canvas)},
                                    std::pair{std::string("canvas.tga"), encode_tga(canvas)},
                                    std::pair{std::string("canvas-runs.tga"), encode_tga_runs(canvas)}}) {
    SCOPED_TRACE(name);
    const std::string path = ::testing::TempDir() + name;
    image::write_file(path, bytes);
    EXPECT_EQ(image::read_image(path).rgb, canvas.rgb);  // the encoding is right: the sweep starts from a good file
    expect_some_refused(test::expect_read_or_refused(name, bytes, {64, 7}, decode_as_explain_does));
  }
}

// The canvas as a 256-colour GIF (stb_image's LZW decoder): its first 1024 bytes (the header, the
// colour table, the image's descriptor) byte by byte, every 5th byte of the codes. It decodes to the
// canvas in the GIF's colours.
TEST(BadInputs, GifCutOrChangedIsReadOrRefused) {
  const image::Image canvas = image::read_image(kSourceDir + "/examples/canvases/test_00000.png");
  const std::vector<uint8_t> bytes = encode_gif(canvas);
  const std::string path = ::testing::TempDir() + "canvas.gif";
  image::write_file(path, bytes);
  std::vector<uint8_t> in_colours;
  for (size_t i = 0; i < canvas.rgb.size(); i += 3)
    for (uint8_t c : palette_colour(palette_index(&canvas.rgb[i]))) in_colours.push_back(c);
  EXPECT_EQ(image::read_image(path).rgb, in_colours);
  expect_some_refused(test::expect_read_or_refused("canvas.gif", bytes, {1024, 5}, decode_as_explain_does));
}

// Kinds of picture stb_image decodes but explain does not read: PNM (here a binary PPM of the canvas,
// whole and cut in half) and Radiance HDR. stb decodes all three, the cut PPM with its missing rows
// black; read_image refuses them with one line naming the file, before any decoder sees them.
TEST(BadInputs, PicturesOfKindsExplainDoesNotReadAreRefused) {
  const image::Image canvas = image::read_image(kSourceDir + "/examples/canvases/test_00000.png");
  const std::string header = "P6\n64 64\n255\n";
  std::vector<uint8_t> ppm(header.begin(), header.end());
  ppm.insert(ppm.end(), canvas.rgb.begin(), canvas.rgb.end());
  const std::vector<uint8_t> cut_ppm(ppm.begin(), ppm.begin() + static_cast<std::ptrdiff_t>(ppm.size() / 2));
  const std::string radiance = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 2\n";
  std::vector<uint8_t> hdr(radiance.begin(), radiance.end());
  for (uint8_t b : {128, 64, 32, 129, 1, 2, 3, 129}) hdr.push_back(b);  // two flat RGBE pixels
  for (const auto& [name, bytes] : {std::pair{std::string("canvas.ppm"), ppm},
                                    std::pair{std::string("canvas-cut.ppm"), cut_ppm},
                                    std::pair{std::string("two-pixels.hdr"), hdr}}) {
    SCOPED_TRACE(name);
    int width = 0, height = 0, channels = 0;
    std::unique_ptr<uint8_t, void (*)(void*)> by_stb(
        stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height, &channels, 3),
        stbi_image_free);
    ASSERT_TRUE(by_stb) << "stb_image would not have decoded it either: " << stbi_failure_reason();
    const std::string path = ::testing::TempDir() + name;
    image::write_file(path, bytes);
    try {
      image::read_image(path);
      ADD_FAILURE() << "read";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), path + ": not a PNG, JPEG, BMP, TGA or GIF image");
    }
  }
}

}  // namespace
}  // namespace gcam
