// render.cu — the map's way to pixels on the GPU (formulas in gcam/cam.h and gcam/colormap.h; CPU:
// src/cam/upsample.cpp and colormap.cpp).
//   upsample_product: one thread per output pixel (n, y, x): the bilinear value with half-pixel centres,
//     s = max(0, (o + ½)·(in/out) − ½), lo = ⌊s⌋, hi = min(lo + 1, in − 1), and — when a guided gradient
//     is given — Guided Grad-CAM's three products guided[n, c, y, x] · map, in the same launch.
//   render: one thread per pixel: the colour of the map value, and alpha·colour + (1 − alpha)·picture
//     (heat alone when no pictures are given).
//   gradient_pictures: one block per image: the mean of its 3·H·W gradient values, their standard
//     deviation (both summed in double, per thread and then over the block), then every pixel's bytes.
#include "../src/cuda/cam.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

struct Tap {
  int64_t lo, hi;
  float frac;
};

__device__ Tap tap(int64_t o, int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double s = fmax(0.0, (o + 0.5) * scale - 0.5);
  const int64_t lo = min(static_cast<int64_t>(s), in - 1);
  return {lo, min(lo + 1, in - 1), static_cast<float>(s - lo)};
}

__global__ void upsample_and_multiply(const float* maps, int64_t h, int64_t w, int64_t H, int64_t W,
                                      const float* guided, float* up, float* guided_gradcam, int64_t n_pixels) {
  for (int64_t i = first_index(); i < n_pixels; i += grid_stride()) {
    const int64_t n = i / (H * W), y = i / W % H, x = i % W;
    const Tap r = tap(y, h, H), c = tap(x, w, W);
    const float* m = maps + n * h * w;
    const float* top = m + r.lo * w;
    const float* bottom = m + r.hi * w;
    const float upper = top[c.lo] + (top[c.hi] - top[c.lo]) * c.frac;
    const float lower = bottom[c.lo] + (bottom[c.hi] - bottom[c.lo]) * c.frac;
    const float v = upper + (lower - upper) * r.frac;
    up[i] = v;
    if (guided) {
      const int64_t plane = H * W, at = y * W + x;
      for (int ch = 0; ch < 3; ++ch) {
        const int64_t j = (n * 3 + ch) * plane + at;
        guided_gradcam[j] = guided[j] * v;
      }
    }
  }
}

__device__ float unit(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }

__global__ void colorize_and_blend(const float* maps, const uint8_t* pictures, cam::Colormap colormap, float alpha,
                                   uint8_t* heat, uint8_t* overlay, int64_t n_pixels) {
  for (int64_t i = first_index(); i < n_pixels; i += grid_stride()) {
    float v = maps[i];
    v = isnan(v) ? 0.0f : unit(v);
    float rgb[3];
    switch (colormap) {
      case cam::Colormap::Jet:
        rgb[0] = unit(1.5f - fabsf(4 * v - 3)), rgb[1] = unit(1.5f - fabsf(4 * v - 2)), rgb[2] = unit(1.5f - fabsf(4 * v - 1));
        break;
      case cam::Colormap::Hot: rgb[0] = unit(3 * v), rgb[1] = unit(fmaf(3.0f, v, -1.0f)), rgb[2] = unit(fmaf(3.0f, v, -2.0f)); break;
      case cam::Colormap::Cool: rgb[0] = v, rgb[1] = 1 - v, rgb[2] = 1; break;
      case cam::Colormap::Gray: default: rgb[0] = rgb[1] = rgb[2] = v; break;
    }
    for (int ch = 0; ch < 3; ++ch) {
      const uint8_t color = static_cast<uint8_t>(lroundf(rgb[ch] * 255.0f));
      heat[i * 3 + ch] = color;
      if (pictures)
        overlay[i * 3 + ch] = static_cast<uint8_t>(lroundf(fmaf(alpha, color, (1.0f - alpha) * pictures[i * 3 + ch])));
    }
  }
}

// Block n: gradient n (3, H, W) → picture n (H, W, 3), gcam/colormap.h's gradient_picture.
__global__ void picture_gradients(const float* gradients, int64_t plane, uint8_t* pictures) {
  const int64_t count = 3 * plane;
  const float* g = gradients + blockIdx.x * count;
  uint8_t* out = pictures + blockIdx.x * count;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) sum += g[i];
  const double mean = block_sum(sum) / static_cast<double>(count);
  double squares = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) squares += (g[i] - mean) * (g[i] - mean);
  const double spread = sqrt(block_sum(squares) / static_cast<double>(count)) + 1e-5;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {  // i: (pixel, channel) of the output
    const int64_t pixel = i / 3, channel = i % 3;
    const double v = (g[channel * plane + pixel] - mean) / spread * 0.1 + 0.5;
    out[i] = static_cast<uint8_t>(llround(fmin(fmax(v, 0.0), 1.0) * 255.0));
  }
}

}  // namespace

Upsampled upsample_product(const Tensor& maps, int64_t height, int64_t width, const Tensor& guided) {
  const int64_t N = maps.size(0), h = maps.size(1), w = maps.size(2);
  Upsampled r{device_empty(Shape{N, height, width}), guided.defined() ? device_empty(guided.shape()) : Tensor()};
  const int64_t n = N * height * width;
  if (n == 0) return r;
  upsample_and_multiply<<<grid_for(n), kThreads, 0, stream()>>>(
      maps.data(), h, w, height, width, guided.defined() ? guided.data() : nullptr, r.map.data(),
      guided.defined() ? r.guided_gradcam.data() : nullptr, n);
  GCAM_CHECK_LAUNCH();
  return r;
}

Rendered render(const Tensor& upsampled_maps, const DeviceArray<uint8_t>& images, cam::Colormap colormap, float alpha) {
  const int64_t n = upsampled_maps.numel();
  const bool blend = images.size() > 0;
  GCAM_CHECK(!blend || images.size() == 3 * n, "render: ", images.size(), " picture bytes for ", n, " map pixels");
  Rendered r{DeviceArray<uint8_t>(3 * n), DeviceArray<uint8_t>(blend ? 3 * n : 0)};
  if (n == 0) return r;
  colorize_and_blend<<<grid_for(n), kThreads, 0, stream()>>>(upsampled_maps.data(), blend ? images.data() : nullptr,
                                                             colormap, alpha, r.heat.data(), r.overlay.data(), n);
  GCAM_CHECK_LAUNCH();
  return r;
}

DeviceArray<uint8_t> gradient_pictures(const Tensor& gradients) {
  check_ndim("gradient_pictures", "gradients", gradients, 4);
  GCAM_CHECK(gradients.size(1) == 3, "gradient_pictures: ", gradients.size(1), " channels, not 3");
  const int64_t N = gradients.size(0), plane = gradients.size(2) * gradients.size(3);
  DeviceArray<uint8_t> pictures(N * 3 * plane);  // (N, H, W, 3)
  if (N == 0 || plane == 0) return pictures;
  picture_gradients<<<static_cast<unsigned>(N), 512, 0, stream()>>>(gradients.data(), plane, pictures.data());
  GCAM_CHECK_LAUNCH();
  return pictures;
}

}  // namespace gcam::cuda
