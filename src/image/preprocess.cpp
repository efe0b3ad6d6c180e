// preprocess.cpp — resizing, cropping and normalising images into network input.
//
// The resize is the antialiased bilinear filter PIL uses (torchvision's Resize on PIL images): for a
// scale s = in/out, output pixel o has centre c = (o + ½)·s and averages the input pixels i within
// max(s, 1) of it with triangle weights 1 − |(i + ½ − c)/max(s, 1)|, normalised to sum 1. Done as a
// horizontal then a vertical pass, rounding to 8 bits in between as PIL does.
#include <algorithm>
#include <cmath>

#include "gcam/error.h"
#include "gcam/image.h"
#include "round_byte.h"

namespace gcam::image {

namespace {

// The taps of one output pixel along one axis: input range [first, first + weights.size()).
struct Taps {
  int64_t first;
  std::vector<float> weights;
};

std::vector<Taps> triangle_taps(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double filter_scale = std::max(scale, 1.0), support = filter_scale;  // bilinear: radius 1
  std::vector<Taps> taps(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(center - support + 0.5));
    const int64_t hi = std::min<int64_t>(in, static_cast<int64_t>(center + support + 0.5));
    Taps& t = taps[o];
    t.first = lo;
    double total = 0.0;
    for (int64_t i = lo; i < hi; ++i) {
      const double x = std::fabs((i - center + 0.5) / filter_scale);
      const double w = x < 1.0 ? 1.0 - x : 0.0;
      t.weights.push_back(static_cast<float>(w));
      total += w;
    }
    for (float& w : t.weights) w = static_cast<float>(w / (total > 0 ? total : 1.0));
  }
  return taps;
}

}  // namespace

// Both passes add each output's taps in ascending order, one running sum per channel, as the plain
// formula does, and round each sum (≥ 0, as weights and bytes are) with round_byte.h. The loops are
// arranged for the caches: the horizontal pass takes a pixel's three channels together, the vertical
// pass adds whole input rows into a row of sums (contiguous, vectorised).
Image resize(const Image& image, int64_t width, int64_t height) {
  GCAM_CHECK(width > 0 && height > 0 && width * height <= kMaxPixels, "resize: bad size ", width, "x", height);
  // Horizontal pass: (H, W) → (H, width).
  const std::vector<Taps> across = triangle_taps(image.width, width);
  Image wide{width, image.height, std::vector<uint8_t>(static_cast<size_t>(width * image.height * 3))};
#pragma omp parallel for schedule(static)
  for (int64_t y = 0; y < image.height; ++y) {
    const uint8_t* row = image.rgb.data() + y * image.width * 3;
    uint8_t* out = wide.rgb.data() + y * width * 3;
    for (int64_t x = 0; x < width; ++x) {
      const Taps& t = across[x];
      const uint8_t* p = row + t.first * 3;
      float r = 0.0f, g = 0.0f, b = 0.0f;
      for (size_t k = 0; k < t.weights.size(); ++k) {
        const float w = t.weights[k];
        r += w * p[3 * k], g += w * p[3 * k + 1], b += w * p[3 * k + 2];
      }
      out[3 * x] = round_byte(r), out[3 * x + 1] = round_byte(g), out[3 * x + 2] = round_byte(b);
    }
  }
  // Vertical pass: (H, width) → (height, width).
  const std::vector<Taps> down = triangle_taps(image.height, height);
  Image out{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  const int64_t row_bytes = width * 3;
#pragma omp parallel
  {
    std::vector<float> sums(static_cast<size_t>(row_bytes));
#pragma omp for schedule(static)
    for (int64_t y = 0; y < height; ++y) {
      const Taps& t = down[y];
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (size_t k = 0; k < t.weights.size(); ++k) {
        const float w = t.weights[k];
        const uint8_t* in = wide.rgb.data() + (t.first + static_cast<int64_t>(k)) * row_bytes;
        for (int64_t i = 0; i < row_bytes; ++i) sums[i] += w * in[i];
      }
      uint8_t* row = out.rgb.data() + y * row_bytes;
      for (int64_t i = 0; i < row_bytes; ++i) row[i] = round_byte(sums[i]);
    }
  }
  return out;
}

Image network_view(const Image& image, const Preprocess& p) {
  if (!p.resize_and_crop) return image;
  GCAM_CHECK(p.resize > 0 && p.crop > 0 && p.crop <= 4096, "preprocess: bad resize ", p.resize, " or crop ", p.crop);
  // Shorter side → resize, the longer one scaled by the same factor and truncated (torchvision's rule).
  const bool wide = image.width >= image.height;
  const int64_t short_side = wide ? image.height : image.width, long_side = wide ? image.width : image.height;
  const int64_t new_long = static_cast<int64_t>(static_cast<double>(p.resize) * long_side / short_side);
  const Image resized = resize(image, wide ? new_long : p.resize, wide ? p.resize : new_long);
  // Centre crop, zero-padded where the image is smaller; offsets round half to even like Python.
  auto offset = [](int64_t size, int64_t crop) {
    return static_cast<int64_t>(std::nearbyint((size - crop) / 2.0));  // default rounding: half to even
  };
  const int64_t top = offset(resized.height, p.crop), left = offset(resized.width, p.crop);
  Image out{p.crop, p.crop, std::vector<uint8_t>(static_cast<size_t>(p.crop * p.crop * 3), 0)};
  for (int64_t y = 0; y < p.crop; ++y)
    for (int64_t x = 0; x < p.crop; ++x) {
      const int64_t sy = y + top, sx = x + left;
      if (sy < 0 || sy >= resized.height || sx < 0 || sx >= resized.width) continue;
      std::copy_n(&resized.rgb[(sy * resized.width + sx) * 3], 3, &out.rgb[(y * p.crop + x) * 3]);
    }
  return out;
}

Tensor to_input(const std::vector<Image>& views, const Preprocess& p) {
  GCAM_CHECK(!views.empty(), "to_input: no images");
  const int64_t H = views[0].height, W = views[0].width, N = static_cast<int64_t>(views.size());
  for (const Image& v : views)
    GCAM_CHECK(v.height == H && v.width == W, "to_input: images in one batch must share a size (", W, "x", H,
               " and ", v.width, "x", v.height, "); use the imagenet preprocessing or resize them");
  Tensor x = Tensor::empty(Shape{N, 3, H, W});
  for (int64_t n = 0; n < N; ++n)
    for (int c = 0; c < 3; ++c) {
      float* plane = x.data() + (n * 3 + c) * H * W;
      const float scale = 1.0f / (255.0f * p.std[c]), shift = p.mean[c] / p.std[c];
      for (int64_t i = 0; i < H * W; ++i) plane[i] = views[n].rgb[i * 3 + c] * scale - shift;  // (v/255 − μ)/σ
    }
  return x;
}

}  // namespace gcam::image
