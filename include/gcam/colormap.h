// gcam/colormap.h — turning a map in [0, 1] into colours, and blending them over an image.
//   jet   r = clamp(1.5 − |4v − 3|), g = clamp(1.5 − |4v − 2|), b = clamp(1.5 − |4v − 1|)   (blue → red)
//   hot   r = clamp(3v), g = clamp(3v − 1), b = clamp(3v − 2)                                (black → white)
//   cool  (v, 1 − v, 1)                                                                         (cyan → magenta)
//   gray  (v, v, v)
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "gcam/image.h"

namespace gcam::cam {

enum class Colormap { Jet, Hot, Cool, Gray };
bool parse_colormap(const std::string& name, Colormap* out);
std::array<uint8_t, 3> colorize(Colormap map, float v);  // v clamped to [0, 1]

// (H×W map in [0, 1]) → RGB heatmap.
image::Image heatmap(const float* map, int64_t height, int64_t width, Colormap colormap);
// alpha·heatmap + (1 − alpha)·image, per channel; image and map must have the same size. Bytes are
// rounded halves-up (lround); 3v − 1, 3v − 2 and the blend are single fused multiply-adds (fma), on the
// CPU and the GPU alike, so both give the same bytes whatever their compilers contract.
image::Image overlay(const image::Image& image, const float* map, Colormap colormap, float alpha);

// A gradient (3×H×W, e.g. guided backprop's ∂y/∂x) as an RGB picture: centred on grey, 0.1 per standard
// deviation, v = (g − mean)/(std + 1e-5)·0.1 + 0.5 clamped to [0, 1], rounded halves-up to a byte; mean
// and std (population) over all 3·H·W values, in double.
image::Image gradient_picture(const float* gradient, int64_t height, int64_t width);

}  // namespace gcam::cam
