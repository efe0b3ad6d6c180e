// upsample.cpp — bilinear resizing with half-pixel centres (PyTorch's align_corners=False):
//   source coordinate of output pixel y:  s = (y + ½)·(h/H) − ½, clamped at 0;
//   value = lerp over the two nearest source rows (and columns), the last one repeated at the edge.
#include <algorithm>
#include <cmath>
#include <vector>

#include "gcam/cam.h"
#include "gcam/error.h"

namespace gcam::cam {

namespace {

struct Tap {
  int64_t lo, hi;
  float frac;  // weight of hi
};

std::vector<Tap> taps(int64_t in, int64_t out) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    const double s = std::max(0.0, (o + 0.5) * scale - 0.5);
    const int64_t lo = std::min<int64_t>(static_cast<int64_t>(s), in - 1);
    t[o] = Tap{lo, std::min<int64_t>(lo + 1, in - 1), static_cast<float>(s - lo)};
  }
  return t;
}

}  // namespace

Tensor upsample_bilinear(const Tensor& maps, int64_t height, int64_t width) {
  GCAM_CHECK(maps.ndim() == 3 || maps.ndim() == 4, "upsample_bilinear: expected (N, h, w) or (N, C, h, w), got ",
             maps.shape().str());
  GCAM_CHECK(height > 0 && width > 0, "upsample_bilinear: output size must be positive");
  const int64_t h = maps.size(-2), w = maps.size(-1), planes = maps.numel() / std::max<int64_t>(h * w, 1);
  GCAM_CHECK(h > 0 && w > 0, "upsample_bilinear: empty input ", maps.shape().str());
  Tensor out = maps.ndim() == 3 ? Tensor::empty(Shape{maps.size(0), height, width})
                                : Tensor::empty(Shape{maps.size(0), maps.size(1), height, width});
  const std::vector<Tap> rows = taps(h, height), cols = taps(w, width);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = maps.data() + p * h * w;
    float* o = out.data() + p * height * width;
    for (int64_t y = 0; y < height; ++y) {
      const Tap& r = rows[y];
      const float* top = in + r.lo * w;
      const float* bottom = in + r.hi * w;
      for (int64_t x = 0; x < width; ++x) {
        const Tap& c = cols[x];
        const float upper = top[c.lo] + (top[c.hi] - top[c.lo]) * c.frac;
        const float lower = bottom[c.lo] + (bottom[c.hi] - bottom[c.lo]) * c.frac;
        o[y * width + x] = upper + (lower - upper) * r.frac;
      }
    }
  }
  return out;
}

}  // namespace gcam::cam
