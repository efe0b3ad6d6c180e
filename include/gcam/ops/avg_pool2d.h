// gcam/ops/avg_pool2d.h — average pooling with kernel, stride, padding and ceil mode.
//
//   x (N, C, H, W) → y (N, C, Ho, Wo)
//   y[n,c,oy,ox] = (1/D) · Σ_{window ∩ input} x,   where D counts the window's positions inside the
//   padded input (count_include_pad = true, PyTorch's default) or inside the input only (false).
//   backward   each dy[n,c,oy,ox] / D is added to every input position of its window.
#pragma once

#include "gcam/ops/window.h"
#include "gcam/tensor.h"

namespace gcam::ops {

struct AvgPool2dOptions {
  Hw kernel{2, 2};
  Hw stride{0, 0};  // 0 means "equal to the kernel"
  Hw padding{0, 0};
  bool ceil_mode = false;
  bool count_include_pad = true;
};

Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& options);

}  // namespace gcam::ops
