// The data gcam trains on: the IDX reader (good files, gzip and plain, and every kind of bad one), the
// real Fashion-MNIST files, and the cluttered canvases (deterministic, and their boxes tight).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "gcam/data.h"
#include "gcam/error.h"

namespace gcam {
namespace {

namespace fs = std::filesystem;

fs::path scratch_dir() {
  const fs::path dir = fs::temp_directory_path() / ("gcam_test_data_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::vector<uint8_t> idx_bytes(uint8_t ndim, const std::vector<uint32_t>& sizes, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {0, 0, 0x08, ndim};
  for (uint32_t s : sizes)
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<uint8_t>(s >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string write_file(const std::string& name, const std::vector<uint8_t>& bytes, bool gzip) {
  const std::string path = (scratch_dir() / name).string();
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  return path;
}

// Expects read_idx to throw an InputError naming `path` and containing `words`.
void expect_bad(const std::string& images, const std::string& labels, const std::string& path, const std::string& words) {
  try {
    data::read_idx(images, labels);
    ADD_FAILURE() << "no error for " << path;
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(words), std::string::npos) << message;
  }
}

TEST(Idx, ReadsGzipAndPlainFiles) {
  const std::vector<uint8_t> pixels = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // 3 images of 2×2
  for (bool gzip : {true, false}) {
    const std::string images = write_file("img", idx_bytes(3, {3, 2, 2}, pixels), gzip);
    const std::string labels = write_file("lab", idx_bytes(1, {3}, {7, 0, 9}), gzip);
    const data::ItemSet set = data::read_idx(images, labels);
    EXPECT_EQ(set.count, 3);
    EXPECT_EQ(set.rows, 2);
    EXPECT_EQ(set.cols, 2);
    EXPECT_EQ(set.pixels, pixels);
    EXPECT_EQ(set.labels, (std::vector<uint8_t>{7, 0, 9}));
    EXPECT_EQ(set.item(2)[1], 9);
  }
  fs::remove_all(scratch_dir());
}

TEST(Idx, BadFilesAreOneLineErrorsNamingTheFile) {
  const std::string labels = write_file("lab3", idx_bytes(1, {3}, {1, 2, 3}), true);
  const std::string good_images = write_file("img3", idx_bytes(3, {3, 2, 2}, std::vector<uint8_t>(12)), true);
  const std::string missing = (scratch_dir() / "no_such_file").string();
  expect_bad(missing, labels, missing, "cannot open");
  const std::string wrong_magic = write_file("magic", idx_bytes(1, {12}, std::vector<uint8_t>(12)), true);
  expect_bad(wrong_magic, labels, wrong_magic, "not an IDX file");
  const std::string short_data = write_file("short", idx_bytes(3, {3, 2, 2}, std::vector<uint8_t>(11)), true);
  expect_bad(short_data, labels, short_data, "truncated");
  const std::string short_header = write_file("header", {0, 0, 8, 3, 0, 0}, false);
  expect_bad(short_header, labels, short_header, "truncated");
  const std::string trailing = write_file("trailing", idx_bytes(3, {3, 2, 2}, std::vector<uint8_t>(13)), false);
  expect_bad(trailing, labels, trailing, "trailing bytes");
  const std::string zero = write_file("zero", idx_bytes(3, {0, 2, 2}, {}), false);
  expect_bad(zero, labels, zero, "implausible size");
  const std::string two_labels = write_file("lab2", idx_bytes(1, {2}, {1, 2}), true);
  expect_bad(good_images, two_labels, two_labels, "2 labels for 3 images");
  const std::string big_label = write_file("lab10", idx_bytes(1, {3}, {1, 10, 2}), true);
  expect_bad(good_images, big_label, big_label, "label 10");
  fs::remove_all(scratch_dir());
}

TEST(FashionMnist, TheDebianFilesHoldTheWholeBalancedDataset) {
  const data::ItemSet train = data::load_fashion_mnist(data::kFashionMnistDirectory, data::Split::Train);
  const data::ItemSet test = data::load_fashion_mnist(data::kFashionMnistDirectory, data::Split::Test);
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(test.count, 10000);
  EXPECT_EQ(train.rows, 28);
  EXPECT_EQ(train.cols, 28);
  std::vector<int64_t> per_class(10, 0);
  for (uint8_t l : test.labels) ++per_class[l];
  for (int64_t c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 1000) << "class " << c;  // 1,000 test items per class
  EXPECT_STREQ(data::fashion_mnist_classes()[9], "Ankle boot");
}

// An item set of solid squares: the object's pixels are all one colour, so its box can be checked exactly.
data::ItemSet squares() {
  data::ItemSet set;
  set.count = 4, set.rows = 28, set.cols = 28;
  set.pixels.assign(4 * 28 * 28, 0);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t y = 8; y < 20; ++y)
      for (int64_t x = 8; x < 20; ++x) set.pixels[(i * 28 + y) * 28 + x] = 255;
  set.labels = {3, 1, 4, 1};
  return set;
}

TEST(Canvas, IsAPureFunctionOfItsSeed) {
  const data::ItemSet set = squares();
  const data::Canvas a = data::make_canvas(set, 2, 99, {}), b = data::make_canvas(set, 2, 99, {}), c = data::make_canvas(set, 2, 100, {});
  EXPECT_EQ(a.image.rgb, b.image.rgb);
  EXPECT_NE(a.image.rgb, c.image.rgb);
  EXPECT_EQ(a.label, 4);
  EXPECT_EQ(a.image.width, 64);
  EXPECT_EQ(a.image.height, 64);
  std::set<uint64_t> seeds;
  for (int64_t epoch = 0; epoch < 3; ++epoch)
    for (int64_t i = 0; i < 100; ++i) seeds.insert(data::canvas_seed(1, epoch, i));
  EXPECT_EQ(seeds.size(), 300u);  // every (epoch, item) its own canvas
}

TEST(Canvas, TheBoxIsTightAroundTheObject) {
  const data::ItemSet set = squares();
  data::CanvasOptions o;
  o.distractors = 0;  // only the object and the background
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const data::Canvas c = data::make_canvas(set, 0, seed, o);
    const cam::Box& b = c.box;
    ASSERT_FALSE(b.empty);
    ASSERT_GE(b.x0, 0);
    ASSERT_LE(b.x1, 63);
    ASSERT_GE(b.y0, 0);
    ASSERT_LE(b.y1, 63);
    // A 12-pixel square scaled by 0.85…1.6 (plus at most a pixel of bilinear edge on each side).
    const int64_t w = b.x1 - b.x0 + 1, h = b.y1 - b.y0 + 1;
    EXPECT_EQ(w, h) << "seed " << seed;
    EXPECT_GE(w, 10);
    EXPECT_LE(w, 22);
    // Inside (away from the edge) the object is solid and one colour.
    auto pixel = [&](int64_t x, int64_t y) {
      const uint8_t* p = &c.image.rgb[(y * 64 + x) * 3];
      return std::array<int, 3>{p[0], p[1], p[2]};
    };
    const auto colour = pixel(b.x0 + 2, b.y0 + 2);
    for (int64_t y = b.y0 + 2; y <= b.y1 - 2; ++y)
      for (int64_t x = b.x0 + 2; x <= b.x1 - 2; ++x) ASSERT_EQ(pixel(x, y), colour) << "seed " << seed << " at " << x << "," << y;
  }
}

TEST(Canvas, OptionsThatCannotWorkAreErrors) {
  const data::ItemSet set = squares();
  data::CanvasOptions o;
  o.size = 32;  // a 28-pixel item scaled by up to 1.6 does not fit
  EXPECT_THROW(data::make_canvas(set, 0, 1, o), InputError);
  EXPECT_THROW(data::make_canvas(set, 4, 1, {}), InputError);
}

}  // namespace
}  // namespace gcam
