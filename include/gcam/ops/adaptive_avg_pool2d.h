// gcam/ops/adaptive_avg_pool2d.h — average pooling to a fixed output size (torchvision's `avgpool`).
//
//   x (N, C, H, W) → y (N, C, Ho, Wo); output row oy averages input rows
//     [floor(oy·H/Ho), ceil((oy+1)·H/Ho))   (likewise for columns)
//   Windows may overlap or differ in size when H is not a multiple of Ho.
//   backward   each dy / (window size) is added to every input position of its window.
#pragma once

#include "gcam/ops/window.h"
#include "gcam/tensor.h"

namespace gcam::ops {

Tensor adaptive_avg_pool2d(const Tensor& x, Hw output_size);

}  // namespace gcam::ops
