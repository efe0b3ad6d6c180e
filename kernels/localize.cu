// localize.cu — each map's box (gcam/cam.h: localize) found on the GPU, so that the maps need not come
// back to the host for it. The algorithm and its steps are src/cam/component_steps.h's; here each step is
// one launch over every pixel of the batch (grid-stride), and the launches' order is the barrier between
// the steps. The first launch, one block per image, finds the image's peak (the threshold's 100%) and
// resets its box. Nothing waits for the host: the boxes stay on the device until boxes_to_host, so the
// steps can be captured in a CUDA graph.
#include <climits>

#include "../src/cam/component_steps.h"
#include "../src/cuda/cam.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

namespace steps = cam::components;

__global__ void peaks_and_reset(steps::Batch b, float* peaks) {
  const int64_t n = blockIdx.x, plane = b.height * b.width;
  const float* map = b.maps + n * plane;
  float peak = -INFINITY;
  for (int64_t i = threadIdx.x; i < plane; i += blockDim.x) peak = fmaxf(peak, map[i]);
  peak = block_max(peak);
  if (threadIdx.x == 0) {
    peaks[n] = peak;
    steps::reset_image(b, n);
  }
}

// One launch per step (the launch boundary orders the steps).
#define GCAM_PIXEL_STEP(kernel, step)                                                        \
  __global__ void kernel(steps::Batch b, int64_t pixels) {                                   \
    for (int64_t g = first_index(); g < pixels; g += grid_stride()) steps::step(b, g);       \
  }
GCAM_PIXEL_STEP(label_pixels, label_pixel)
GCAM_PIXEL_STEP(join_pixels, join_pixel)
GCAM_PIXEL_STEP(count_pixels, count_pixel)
GCAM_PIXEL_STEP(pick_pixels, pick_pixel)
GCAM_PIXEL_STEP(bound_pixels, bound_pixel)
#undef GCAM_PIXEL_STEP

}  // namespace

DeviceArray<int32_t> localize(const Tensor& maps, float threshold) {
  check_ndim("localize", "maps", maps, 3);
  GCAM_CHECK(maps.device() == Device::CUDA, "localize: the maps must be on the GPU");
  const int64_t N = maps.size(0), H = maps.size(1), W = maps.size(2), pixels = N * H * W;
  GCAM_CHECK(H * W < INT32_MAX, "localize: a ", H, "x", W, " map has too many pixels for 32-bit labels");
  DeviceArray<int32_t> boxes(4 * N);
  if (N == 0) return boxes;
  GCAM_CHECK(H > 0 && W > 0, "localize: empty ", H, "x", W, " maps");
  // Scratch, back to the caching allocator when this returns (still in stream order).
  DeviceArray<int32_t> labels(pixels), sizes(pixels);
  DeviceArray<float> peaks(N);
  DeviceArray<unsigned long long> best(N);
  const steps::Batch b{maps.data(), labels.data(), sizes.data(), peaks.data(), best.data(), boxes.data(), H, W,
                       threshold};
  peaks_and_reset<<<static_cast<unsigned>(N), kThreads, 0, stream()>>>(b, peaks.data());
  GCAM_CHECK_LAUNCH();
  for (void (*step)(steps::Batch, int64_t) : {label_pixels, join_pixels, count_pixels, pick_pixels, bound_pixels}) {
    step<<<grid_for(pixels), kThreads, 0, stream()>>>(b, pixels);
    GCAM_CHECK_LAUNCH();
  }
  return boxes;
}

std::vector<cam::Box> boxes_to_host(const DeviceArray<int32_t>& boxes) {
  const std::vector<int32_t> v = boxes.copy_to_host();
  std::vector<cam::Box> out(v.size() / 4);
  for (size_t n = 0; n < out.size(); ++n) {
    const int32_t* b = v.data() + 4 * n;
    if (b[2] >= 0) out[n] = cam::Box{b[0], b[1], b[2], b[3], false};
  }
  return out;
}

}  // namespace gcam::cuda
