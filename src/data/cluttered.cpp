// cluttered.cpp — one Fashion-MNIST item on a cluttered RGB canvas, with its true bounding box.
//
// Drawing order (later layers cover earlier ones), all from one seeded generator:
//   1. background   two nearby random colours mixed by a sine grating of random period, angle and phase, plus
//                   per-pixel noise: texture everywhere, so "any ink" is not "the object"
//   2. distractors  `distractors` fragments (fragment × fragment crops, where the ink is) of other items,
//                   scaled and painted like the object (at 90% opacity), anywhere on the canvas, even
//                   partly off it or under the object
//   3. the object   the item scaled by s ∈ [min_scale, max_scale] (bilinear), painted (see paint()) in a
//                   colour far from the background's mean, at a random position where it fits whole
// The box is the tight box of the object's pixels with opacity ≥ 0.1 (what a person would draw around it).
#include <algorithm>
#include <cmath>

#include "gcam/data.h"
#include "gcam/error.h"

namespace gcam::data {

namespace {

// splitmix64 (Steele, Lea, Flood 2014): a small, well-mixed generator; one per canvas.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(next() >> 40) / 16777216.0f; }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

using Rgb = std::array<float, 3>;

Rgb random_colour(Rng& rng) { return {rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)}; }

float distance(const Rgb& a, const Rgb& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

// A colour at least `min_distance` from `avoid` (a few tries; the last one is kept).
Rgb contrasting_colour(Rng& rng, const Rgb& avoid, float min_distance) {
  Rgb c = random_colour(rng);
  for (int tries = 0; tries < 16 && distance(c, avoid) < min_distance; ++tries) c = random_colour(rng);
  return c;
}

// A grey patch (side × side, values 0…1) resized to out × out: bilinear, half-pixel centres.
std::vector<float> scale_patch(const uint8_t* src, int64_t src_side, int64_t src_stride, int64_t out) {
  std::vector<float> dst(static_cast<size_t>(out * out));
  const float step = static_cast<float>(src_side) / static_cast<float>(out);
  auto at = [&](int64_t y, int64_t x) {
    y = std::clamp<int64_t>(y, 0, src_side - 1);
    x = std::clamp<int64_t>(x, 0, src_side - 1);
    return src[y * src_stride + x] / 255.0f;
  };
  for (int64_t y = 0; y < out; ++y)
    for (int64_t x = 0; x < out; ++x) {
      const float sy = (y + 0.5f) * step - 0.5f, sx = (x + 0.5f) * step - 0.5f;
      const int64_t y0 = static_cast<int64_t>(std::floor(sy)), x0 = static_cast<int64_t>(std::floor(sx));
      const float fy = sy - y0, fx = sx - x0;
      dst[y * out + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
                         fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  return dst;
}

// Paints a grey picture (side × side, values v ∈ 0…1) onto the canvas (float RGB, size × size) at
// (top, left) in colour c: opacity a = min(1, 2.5·v)·opacity (faint ink is see-through, the body is
// solid) and shade c·(0.55 + 0.45·v), so the item's own light and dark parts stay visible.
void paint(std::vector<float>& canvas, int64_t size, const std::vector<float>& grey, int64_t side, int64_t top,
           int64_t left, const Rgb& c, float opacity) {
  for (int64_t y = 0; y < side; ++y)
    for (int64_t x = 0; x < side; ++x) {
      const int64_t cy = top + y, cx = left + x;
      if (cy < 0 || cy >= size || cx < 0 || cx >= size) continue;
      const float v = grey[y * side + x], a = std::min(1.0f, 2.5f * v) * opacity, shade = 0.55f + 0.45f * v;
      float* p = &canvas[(cy * size + cx) * 3];
      for (int k = 0; k < 3; ++k) p[k] = (1 - a) * p[k] + a * c[k] * shade;
    }
}

}  // namespace

uint64_t canvas_seed(uint64_t seed, int64_t epoch, int64_t index) {
  Rng mix(seed * 0x2545F4914F6CDD1Dull ^ static_cast<uint64_t>(epoch) * 0x9E3779B97F4A7C15ull);
  mix.next();
  return mix.next() ^ static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ull;
}

Canvas make_canvas(const ItemSet& items, int64_t index, uint64_t seed, const CanvasOptions& o) {
  GCAM_CHECK(index >= 0 && index < items.count, "make_canvas: item ", index, " of ", items.count);
  GCAM_CHECK(o.size >= 16 && o.size <= 1024, "make_canvas: canvas size ", o.size, " (16…1024)");
  GCAM_CHECK(o.min_scale > 0 && o.max_scale >= o.min_scale && items.rows * o.max_scale <= o.size,
             "make_canvas: scales [", o.min_scale, ", ", o.max_scale, "] do not fit a ", o.size, " canvas");
  GCAM_CHECK(o.fragment > 0 && o.fragment <= std::min(items.rows, items.cols), "make_canvas: fragment ", o.fragment);
  Rng rng(seed);
  const int64_t size = o.size;

  // 1. Background: c0·(1 − t) + c1·t with t a sine grating, plus noise; c1 near c0, so the texture is
  //    visible but the stripes do not outshout the object.
  const Rgb c0 = random_colour(rng);
  Rgb c1;
  for (int k = 0; k < 3; ++k) c1[k] = std::clamp(c0[k] + rng.uniform(-70.0f, 70.0f), 0.0f, 255.0f);
  const float period = rng.uniform(6.0f, 24.0f), angle = rng.uniform(0.0f, 3.14159265f), phase = rng.uniform(0.0f, 6.2831853f);
  const float kx = std::cos(angle) * 6.2831853f / period, ky = std::sin(angle) * 6.2831853f / period;
  std::vector<float> canvas(static_cast<size_t>(size * size * 3));
  for (int64_t y = 0; y < size; ++y)
    for (int64_t x = 0; x < size; ++x) {
      const float t = 0.5f + 0.5f * std::sin(kx * x + ky * y + phase);
      for (int k = 0; k < 3; ++k) canvas[(y * size + x) * 3 + k] = c0[k] * (1 - t) + c1[k] * t + rng.uniform(-15.0f, 15.0f);
    }
  const Rgb background_mean = {(c0[0] + c1[0]) / 2, (c0[1] + c1[1]) / 2, (c0[2] + c1[2]) / 2};

  // 2. Distractors: crops of other items where they have ink.
  for (int d = 0; d < o.distractors && items.count > 1; ++d) {
    int64_t other = rng.below(items.count - 1);
    if (other >= index) ++other;  // never the object itself
    const uint8_t* src = items.item(other);
    int64_t top = 0, left = 0;
    for (int tries = 0; tries < 8; ++tries) {  // prefer a crop with ink in it
      top = rng.below(items.rows - o.fragment + 1);
      left = rng.below(items.cols - o.fragment + 1);
      int64_t ink = 0;
      for (int64_t y = 0; y < o.fragment; ++y)
        for (int64_t x = 0; x < o.fragment; ++x) ink += src[(top + y) * items.cols + left + x] > 64;
      if (ink * 3 >= o.fragment * o.fragment) break;
    }
    const int64_t side = static_cast<int64_t>(std::lround(o.fragment * rng.uniform(o.min_scale, o.max_scale)));
    const std::vector<float> grey = scale_patch(src + top * items.cols + left, o.fragment, items.cols, side);
    const int64_t at_y = rng.below(size - side / 2) - side / 4, at_x = rng.below(size - side / 2) - side / 4;
    paint(canvas, size, grey, side, at_y, at_x, contrasting_colour(rng, background_mean, 120.0f), 0.9f);
  }

  // 3. The object, whole, somewhere on the canvas.
  GCAM_CHECK(items.rows == items.cols, "make_canvas: items must be square, got ", items.rows, "x", items.cols);
  const int64_t side = std::min<int64_t>(size, std::lround(items.rows * rng.uniform(o.min_scale, o.max_scale)));
  const std::vector<float> grey = scale_patch(items.item(index), items.rows, items.cols, side);
  const int64_t top = rng.below(size - side + 1), left = rng.below(size - side + 1);
  paint(canvas, size, grey, side, top, left, contrasting_colour(rng, background_mean, 160.0f), 1.0f);

  Canvas out;
  out.label = items.labels[index];
  out.image = image::Image{size, size, std::vector<uint8_t>(canvas.size())};
  for (size_t i = 0; i < canvas.size(); ++i)
    out.image.rgb[i] = static_cast<uint8_t>(std::clamp(std::lround(canvas[i]), 0L, 255L));
  cam::Box& box = out.box;
  for (int64_t y = 0; y < side; ++y)
    for (int64_t x = 0; x < side; ++x) {
      if (2.5f * grey[y * side + x] < 0.1f) continue;  // opacity below 10%
      const int64_t cy = top + y, cx = left + x;
      if (box.empty) box = cam::Box{cx, cy, cx, cy, false};
      box.x0 = std::min(box.x0, cx), box.x1 = std::max(box.x1, cx);
      box.y0 = std::min(box.y0, cy), box.y1 = std::max(box.y1, cy);
    }
  return out;
}

}  // namespace gcam::data
