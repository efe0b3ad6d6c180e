// render.cu — the map's way to pixels on the GPU (formulas in gcam/cam.h and gcam/colormap.h; CPU:
// src/cam/upsample.cpp and colormap.cpp).
//   draw: one thread per output pixel (n, y, x), everything that pixel needs in one launch: the upsampled
//     map, Guided Grad-CAM's product, the heatmap's colour and the overlay, each if asked. The pixel's
//     steps are src/cam/draw_steps.h's, which the tests also run on the CPU.
//   gradient_pictures: one block per image: the mean of its 3·H·W gradient values, their standard
//     deviation (both summed in double, per thread and then over the block), then every pixel's bytes
//     (src/cam/colours.h's gradient_byte, as on the CPU).
#include "../src/cam/colours.h"
#include "../src/cam/draw_steps.h"
#include "../src/cuda/cam.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

namespace drawing = cam::drawing;

__global__ void draw_pixels(drawing::Pixels pixels, int64_t count) {
  for (int64_t i = first_index(); i < count; i += grid_stride()) drawing::draw_pixel(pixels, i);
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
    out[i] = cam::colours::gradient_byte(g[channel * plane + pixel], mean, spread);
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
  const drawing::Pixels request{maps.data(), h, w, H, W,
                                what.guided ? what.guided->data() : nullptr,
                                what.pictures ? what.pictures->data() : nullptr,
                                what.colormap, what.alpha,
                                what.map ? out.map.data() : nullptr,
                                what.guided ? out.guided_gradcam.data() : nullptr,
                                what.heat ? out.heat.data() : nullptr,
                                what.pictures ? out.overlay.data() : nullptr};
  draw_pixels<<<grid_for(pixels), kThreads, 0, stream()>>>(request, pixels);
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
