// test_bad_inputs.cpp — bad input never crashes: the files a user hands `explain` (the checkpoint and
// the pictures: PNG, JPEG, GIF), cut short at every length and changed byte by byte (support/mutations.h), are read or
// refused with one InputError line naming the file — never another exception, a crash or a hang.
//
// Each file is read as explain reads it: a checkpoint opened, its model card read, its model built and
// every weight loaded strictly; a picture decoded, cropped to the shipped model's view and made into
// network input. The pickled checkpoints (PyTorch's zip and legacy formats) are swept in
// test_weights.cpp, beside the PyTorch-written files they start from.
#include <gtest/gtest.h>
#include <jpeglib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <tuple>

#include "gcam/error.h"
#include "gcam/image.h"
#include "gcam/model_card.h"
#include "gcam/models.h"
#include "gcam/weights.h"
#include "support/child.h"
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

// The canvas as a 256-colour GIF (giflib's LZW decoder): its first 1024 bytes (the header, the
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

// --- Images made to cost: refused before anything large is allocated (support/child.h measures) -------

// `bytes` read as explain reads an image, in a child: refused with `why`, costing under `max_mb`.
void expect_image_refused(const std::string& name, const std::vector<uint8_t>& bytes, const std::string& why, double max_mb) {
  const std::string path = ::testing::TempDir() + name;
  image::write_file(path, bytes);
  const test::ChildOutcome o = test::run_in_child([&] { image::read_image(path); }, 30);
  EXPECT_EQ(o.end, test::ChildOutcome::End::InputError) << test::describe(o);
  EXPECT_EQ(o.message.rfind(path + ": ", 0), 0u) << o.message;
  EXPECT_NE(o.message.find(why), std::string::npos) << o.message;
  if (test::kMemoryIsMeasured) EXPECT_LT(o.added_mb(), max_mb) << test::describe(o);
}

// Big-endian fields, for PNG headers.
void put32_be(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Headers announcing pictures the file cannot hold: a 35-byte GIF with a 16384² screen (2.1 GB in stb
// before), a PNG and a JPEG whose IHDR / SOF say 8000 × 8000 (800 MB allocated before any pixel data
// was read) with almost nothing after.
TEST(BadInputs, ForgedImageSizesAllocateNothingLarge) {
  std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a'};
  put16(gif, 16384), put16(gif, 16384);
  gif.insert(gif.end(), {0, 0, 0, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0, 0x3B});
  expect_image_refused("screen.gif", gif, "too large: over the pixel budget of 67108864", 50);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  put32_be(png, 13), png.insert(png.end(), {'I', 'H', 'D', 'R'});
  put32_be(png, 8000), put32_be(png, 8000), png.insert(png.end(), {8, 2, 0, 0, 0});
  put32_be(png, 0);  // (its CRC: never reached)
  expect_image_refused("forged.png", png, "cannot hold 8000×8000 pixels", 50);

  const image::Image canvas = image::read_image(kSourceDir + "/examples/canvases/test_00000.png");
  std::vector<uint8_t> jpeg = encode_jpeg(canvas, false);
  for (size_t i = 2; i + 8 < jpeg.size(); ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {  // SOF0: length, precision, height, width
      jpeg[i + 5] = 8000 >> 8, jpeg[i + 6] = 8000 & 0xFF, jpeg[i + 7] = 8000 >> 8, jpeg[i + 8] = 8000 & 0xFF;
      break;
    }
  expect_image_refused("forged.jpg", jpeg, "cannot hold 8000×8000 pixels", 50);
}

// A progressive JPEG whose last scan is repeated 150 times (libjpeg warns of each and goes on): refused at
// scan 101 instead of decoding every one (hundreds of scans in a few KB took 10 s).
TEST(BadInputs, JpegWithTooManyScansIsRefused) {
  const image::Image canvas = image::read_image(kSourceDir + "/examples/canvases/test_00000.png");
  const std::vector<uint8_t> jpeg = encode_jpeg(canvas, true);
  size_t last_scan = 0;
  for (size_t i = 2; i + 1 < jpeg.size(); ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) last_scan = i;
  ASSERT_GT(last_scan, 0u);
  ASSERT_EQ(jpeg[jpeg.size() - 2], 0xFF);
  ASSERT_EQ(jpeg[jpeg.size() - 1], 0xD9);
  std::vector<uint8_t> many(jpeg.begin(), jpeg.end() - 2);
  for (int i = 0; i < 150; ++i) many.insert(many.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(last_scan), jpeg.end() - 2);
  many.insert(many.end(), {0xFF, 0xD9});
  expect_image_refused("many_scans.jpg", many, "more than 100 scans", 50);
}

// Kinds of picture explain does not read: BMP and TGA (whose only decoder at hand, a 2022 stb_image,
// has known vulnerabilities), PNM (a binary PPM of the canvas) and Radiance HDR. Each is refused with one
// line naming the file, before any decoder sees it.
TEST(BadInputs, PicturesOfKindsExplainDoesNotReadAreRefused) {
  const image::Image canvas = image::read_image(kSourceDir + "/examples/canvases/test_00000.png");
  const std::string header = "P6\n64 64\n255\n";
  std::vector<uint8_t> ppm(header.begin(), header.end());
  ppm.insert(ppm.end(), canvas.rgb.begin(), canvas.rgb.end());
  const std::string radiance = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 2\n";
  std::vector<uint8_t> hdr(radiance.begin(), radiance.end());
  for (uint8_t b : {128, 64, 32, 129, 1, 2, 3, 129}) hdr.push_back(b);  // two flat RGBE pixels
  for (const auto& [name, bytes, why] :
       {std::tuple{std::string("canvas.bmp"), encode_bmp(canvas), std::string("BMP images are not read")},
        std::tuple{std::string("canvas.tga"), encode_tga(canvas), std::string("not a PNG, JPEG or GIF image")},
        std::tuple{std::string("canvas-runs.tga"), encode_tga_runs(canvas), std::string("not a PNG, JPEG or GIF image")},
        std::tuple{std::string("canvas.ppm"), ppm, std::string("not a PNG, JPEG or GIF image")},
        std::tuple{std::string("two-pixels.hdr"), hdr, std::string("not a PNG, JPEG or GIF image")}}) {
    SCOPED_TRACE(name);
    const std::string path = ::testing::TempDir() + name;
    image::write_file(path, bytes);
    try {
      image::read_image(path);
      ADD_FAILURE() << "read";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": " + why, 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace gcam
