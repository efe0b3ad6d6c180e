// box_cases.cpp — see box_cases.h.
#include "support/box_cases.h"

#include <algorithm>
#include <random>

#include "gcam/cam.h"
#include "gcam/tensor.h"

namespace gcam::test {

namespace {

// Each pixel above the cut with probability q.
std::vector<float> speckle(int64_t h, int64_t w, float q, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> map(static_cast<size_t>(h * w));
  for (float& v : map) v = u(rng) < q ? 0.5f + u(rng) : 0.1f * u(rng);
  return map;
}

// A 4×4 random grid, bilinearly upsampled: a few large blobs.
std::vector<float> smooth(int64_t h, int64_t w, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  Tensor grid = Tensor::empty(Shape{1, 4, 4});
  for (int64_t i = 0; i < grid.numel(); ++i) grid.data()[i] = u(rng);
  const Tensor up = cam::upsample_bilinear(grid, h, w);
  return std::vector<float>(up.data(), up.data() + up.numel());
}

// Rows 0, 2, 4, … full, joined at alternate ends: one component whose far end is h·w/2 links away.
std::vector<float> snake(int64_t h, int64_t w) {
  std::vector<float> map(static_cast<size_t>(h * w), 0.0f);
  for (int64_t y = 0; y < h; y += 2) {
    std::fill(map.begin() + y * w, map.begin() + (y + 1) * w, 1.0f);
    if (y + 1 < h) map[(y + 1) * w + ((y / 2) % 2 == 0 ? w - 1 : 0)] = 1.0f;
  }
  return map;
}

std::vector<float> checkerboard(int64_t h, int64_t w) {
  std::vector<float> map(static_cast<size_t>(h * w));
  for (int64_t i = 0; i < h * w; ++i) map[i] = ((i / w + i % w) % 2 == 0) ? 1.0f : 0.0f;
  return map;
}

void append(BoxCase& c, const std::vector<float>& map) { c.maps.insert(c.maps.end(), map.begin(), map.end()); }

}  // namespace

std::vector<BoxCase> box_cases() {
  std::mt19937 rng(11);
  std::vector<BoxCase> cases;
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {1, 9}, {9, 1}, {2, 2}, {5, 7}, {31, 17}, {64, 64}, {224, 224}}) {
    BoxCase c{std::to_string(h) + "x" + std::to_string(w) + " speckle and blobs", h, w, 0.15f, {}};
    for (float q : {0.1f, 0.35f, 0.6f, 0.9f}) append(c, speckle(h, w, q, rng));
    append(c, smooth(h, w, rng));
    append(c, std::vector<float>(static_cast<size_t>(h * w), 0.0f));  // no box
    append(c, std::vector<float>(static_cast<size_t>(h * w), 0.25f));  // one component, everything
    cases.push_back(std::move(c));
  }
  BoxCase high{"smooth blobs, cut at 60%", 48, 40, 0.6f, {}};
  for (int i = 0; i < 4; ++i) append(high, smooth(48, 40, rng));
  cases.push_back(std::move(high));
  BoxCase shapes{"snake and checkerboard", 33, 20, 0.15f, {}};
  append(shapes, snake(33, 20));
  append(shapes, checkerboard(33, 20));
  cases.push_back(std::move(shapes));
  // Two blobs of one size: the one met first in raster order wins, wherever its columns are.
  BoxCase tie{"equal blobs", 6, 8, 0.15f, std::vector<float>(2 * 6 * 8, 0.0f)};
  for (int64_t x : {5, 6}) tie.maps[1 * 8 + x] = tie.maps[2 * 8 + x] = 1.0f;  // image 0: right blob first
  for (int64_t x : {0, 1}) tie.maps[2 * 8 + x] = tie.maps[3 * 8 + x] = 1.0f;
  for (int64_t x : {0, 1}) tie.maps[48 + 1 * 8 + x] = tie.maps[48 + 2 * 8 + x] = 1.0f;  // image 1: left first
  for (int64_t x : {5, 6}) tie.maps[48 + 2 * 8 + x] = tie.maps[48 + 3 * 8 + x] = 1.0f;
  cases.push_back(std::move(tie));
  return cases;
}

::testing::AssertionResult same_box(const cam::Box& got, const cam::Box& want) {
  auto text = [](const cam::Box& b) {
    return b.empty ? std::string("empty")
                   : "x " + std::to_string(b.x0) + "…" + std::to_string(b.x1) + ", y " + std::to_string(b.y0) + "…" +
                         std::to_string(b.y1);
  };
  const bool same = got.empty == want.empty &&
                    (got.empty || (got.x0 == want.x0 && got.y0 == want.y0 && got.x1 == want.x1 && got.y1 == want.y1));
  if (same) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "box " << text(got) << ", expected " << text(want);
}

}  // namespace gcam::test
