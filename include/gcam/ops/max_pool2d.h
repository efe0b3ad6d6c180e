// gcam/ops/max_pool2d.h — max pooling with kernel, stride, padding, dilation and ceil mode.
//
//   x (N, C, H, W) → y (N, C, Ho, Wo), Ho/Wo as in gcam/ops/window.h (padding never wins: it is −∞)
//   forward   y[n,c,oy,ox] = max over the window of x;  a[n,c,oy,ox] = where the max was (the first
//             position in row-major window order on a tie, as in PyTorch)
//   backward  dx[n,c,a[n,c,oy,ox]] += dy[n,c,oy,ox]   (overlapping windows may share a winner)
#pragma once

#include "gcam/ops/window.h"
#include "gcam/tensor.h"

namespace gcam::ops {

struct MaxPool2dOptions {
  Hw kernel{2, 2};
  Hw stride{0, 0};  // 0 means "equal to the kernel", as in PyTorch
  Hw padding{0, 0};
  Hw dilation{1, 1};
  bool ceil_mode = false;
};

Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& options);

}  // namespace gcam::ops
