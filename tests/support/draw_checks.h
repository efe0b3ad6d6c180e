// draw_checks.h — the checks that a draw makes what the CPU's own functions make (gcam/cam.h's
// upsample_bilinear, gcam/colormap.h's heatmap and overlay), shared by the test that runs the pixel steps
// on the CPU (test_draw_steps.cpp) and the test of the GPU launch (test_cuda_cam.cpp). Each test hands
// in its drawer: maps and a request in, the outputs back on the host.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "gcam/colormap.h"
#include "gcam/tensor.h"

namespace gcam::test {

// What to draw from maps (N, h, w), all on the host (src/cuda/cam.h's Drawing, with host data).
struct DrawRequest {
  int64_t height = 0, width = 0;                   // H×W
  bool map = true;                                 // the upsampled maps (N, H, W)
  const Tensor* guided = nullptr;                  // (N, 3, H, W): Guided Grad-CAM = guided ⊙ map
  bool heat = false;                               // heatmaps (N, H, W, 3 bytes)
  const std::vector<uint8_t>* pictures = nullptr;  // (N, H, W, 3 bytes): overlays on these
  cam::Colormap colormap = cam::Colormap::Jet;
  float alpha = 0.5f;
};

// What came back; an output not asked for is empty.
struct DrawnOnHost {
  std::vector<float> map, guided_gradcam;  // (N, H, W), (N, 3, H, W)
  std::vector<uint8_t> heat, overlay;      // (N, H, W, 3)
};

using Drawer = std::function<DrawnOnHost(const Tensor& maps, const DrawRequest& what)>;

// Maps of 7×7, 14×14 and 5×9 drawn at 224×197 with everything asked: the map within 1e-5 of the CPU's
// upsampling, the product within 1e-5, heat and overlay bytes within one unit of the CPU's colours of the
// drawn map; then fewer outputs asked give the same ones, bit for bit, and nothing else.
void expect_drawing_equals_the_cpu(const Drawer& draw);

// Maps already at the pictures' size (coloured as they are) with values outside [0, 1] and a NaN (drawn
// as 0): heat and overlay bytes within one unit of the CPU's, for every colour map.
void expect_colours_equal_the_cpu(const Drawer& draw);

}  // namespace gcam::test
