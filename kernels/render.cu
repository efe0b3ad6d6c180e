// render.cu — the map's way to pixels on the GPU (formulas in gcam/cam.h and gcam/colormap.h; CPU:
// src/cam/upsample.cpp and colormap.cpp).
//   draw: one thread per output pixel (n, y, x), everything that pixel needs in one launch:
//     v = the bilinear value with half-pixel centres, s = max(0, (o + ½)·(in/out) − ½), lo = ⌊s⌋,
//         hi = min(lo + 1, in − 1) (or the map's own value when in = out);
//     the upsampled map v; Guided Grad-CAM's three products guided[n, c, y, x] · v; the colour of v
//     (NaN drawn as 0, clamped to [0, 1]); and alpha·colour + (1 − alpha)·picture — each if asked.
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

// Map n (h, w) at output pixel (y, x) of H×W.
__device__ float upsampled(const float* map, int64_t h, int64_t w, int64_t H, int64_t W, int64_t y, int64_t x) {
  if (h == H && w == W) return map[y * w + x];
  const Tap r = tap(y, h, H), c = tap(x, w, W);
  const float* top = map + r.lo * w;
  const float* bottom = map + r.hi * w;
  const float upper = top[c.lo] + (top[c.hi] - top[c.lo]) * c.frac;
  const float lower = bottom[c.lo] + (bottom[c.hi] - bottom[c.lo]) * c.frac;
  return upper + (lower - upper) * r.frac;
}

__device__ float unit(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }

// gcam/colormap.h's colours of v, as bytes.
__device__ void colour(cam::Colormap colormap, float v, uint8_t out[3]) {
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
  for (int ch = 0; ch < 3; ++ch) out[ch] = static_cast<uint8_t>(lroundf(rgb[ch] * 255.0f));
}

// What one draw launch reads and writes; a null pointer: not asked.
struct DrawArgs {
  const float* maps;  // (N, h, w)
  int64_t h, w, H, W;
  const float* guided;      // (N, 3, H, W)
  const uint8_t* pictures;  // (N, H, W, 3)
  cam::Colormap colormap;
  float alpha;
  float* map;               // (N, H, W)
  float* guided_gradcam;    // (N, 3, H, W)
  uint8_t *heat, *overlay;  // (N, H, W, 3)
};

__global__ void draw_pixels(DrawArgs a, int64_t n_pixels) {
  const int64_t plane = a.H * a.W;
  for (int64_t i = first_index(); i < n_pixels; i += grid_stride()) {
    const int64_t n = i / plane, at = i % plane, y = at / a.W, x = at % a.W;
    const float v = upsampled(a.maps + n * a.h * a.w, a.h, a.w, a.H, a.W, y, x);
    if (a.map) a.map[i] = v;
    if (a.guided)
      for (int ch = 0; ch < 3; ++ch) {
        const int64_t j = (n * 3 + ch) * plane + at;
        a.guided_gradcam[j] = a.guided[j] * v;
      }
    if (a.heat || a.overlay) {
      uint8_t rgb[3];
      colour(a.colormap, v, rgb);
      for (int ch = 0; ch < 3; ++ch) {
        if (a.heat) a.heat[i * 3 + ch] = rgb[ch];
        if (a.overlay)
          a.overlay[i * 3 + ch] =
              static_cast<uint8_t>(lroundf(fmaf(a.alpha, rgb[ch], (1.0f - a.alpha) * a.pictures[i * 3 + ch])));
      }
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

Drawn draw(const Tensor& maps, const Drawing& what) {
  check_ndim("draw", "maps", maps, 3);
  const int64_t N = maps.size(0), h = maps.size(1), w = maps.size(2), H = what.height, W = what.width;
  const int64_t pixels = N * H * W;
  GCAM_CHECK(H > 0 && W > 0 && h > 0 && w > 0, "draw: maps of ", h, "x", w, " to ", H, "x", W);
  if (what.guided) {
    GCAM_CHECK(what.guided->shape() == (Shape{N, 3, H, W}), "draw: a guided gradient of ", what.guided->shape().str(),
               " for ", N, " maps of ", H, "x", W);
  }
  if (what.pictures) {
    GCAM_CHECK(what.pictures->size() == 3 * pixels, "draw: ", what.pictures->size(), " picture bytes for ", pixels,
               " map pixels");
  }
  Drawn out;
  if (what.map) out.map = device_empty(Shape{N, H, W});
  if (what.guided) out.guided_gradcam = device_empty(what.guided->shape());
  if (what.heat) out.heat = DeviceArray<uint8_t>(3 * pixels);
  if (what.pictures) out.overlay = DeviceArray<uint8_t>(3 * pixels);
  if (pixels == 0) return out;
  const DrawArgs args{maps.data(),
                      h,
                      w,
                      H,
                      W,
                      what.guided ? what.guided->data() : nullptr,
                      what.pictures ? what.pictures->data() : nullptr,
                      what.colormap,
                      what.alpha,
                      what.map ? out.map.data() : nullptr,
                      what.guided ? out.guided_gradcam.data() : nullptr,
                      what.heat ? out.heat.data() : nullptr,
                      what.pictures ? out.overlay.data() : nullptr};
  draw_pixels<<<grid_for(pixels), kThreads, 0, stream()>>>(args, pixels);
  GCAM_CHECK_LAUNCH();
  return out;
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
