// window_average.h — pooling that averages a rectangle of the input at each output position (internal).
//
// Average pooling and adaptive average pooling differ only in where each window lies and what its sum
// is divided by, so both run through these two loops:
//   forward   y[p, oy, ox] = (1/D) · Σ_{(iy, ix) ∈ window(oy, ox)} x[p, iy, ix]
//   backward  dx[p, iy, ix] += dy[p, oy, ox] / D   for every (iy, ix) in window(oy, ox)
// over every (n, c) plane p. Planes are independent: both loops are parallel over them.
#pragma once

#include "gcam/tensor.h"

namespace gcam::ops::detail {

struct AverageWindow {
  int64_t y0, y1, x0, x1;  // input rows [y0, y1) × columns [x0, x1)
  float divisor;           // D
};

// window_at(oy, ox) → AverageWindow.
template <typename WindowAt>
Tensor average_over_windows(const Tensor& x, int64_t out_h, int64_t out_w, WindowAt window_at) {
  const int64_t H = x.size(2), W = x.size(3), planes = x.size(0) * x.size(1);
  Tensor y = Tensor::empty(Shape{x.size(0), x.size(1), out_h, out_w});
  const float* xp = x.data();
  float* yp = y.data();
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = xp + p * H * W;
    float* out = yp + p * out_h * out_w;
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const AverageWindow win = window_at(oy, ox);
        float sum = 0.0f;
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix) sum += in[iy * W + ix];
        out[oy * out_w + ox] = sum / win.divisor;
      }
  }
  return y;
}

template <typename WindowAt>
Tensor spread_over_windows(const Tensor& dy, const Shape& x_shape, WindowAt window_at) {
  const int64_t H = x_shape[2], W = x_shape[3], out_h = dy.size(2), out_w = dy.size(3);
  const int64_t planes = x_shape[0] * x_shape[1];
  Tensor dx = Tensor::zeros(x_shape);
  const float* dyp = dy.data();
  float* dxp = dx.data();
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    float* grad_in = dxp + p * H * W;
    const float* grad_out = dyp + p * out_h * out_w;
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox) {
        const AverageWindow win = window_at(oy, ox);
        const float share = grad_out[oy * out_w + ox] / win.divisor;
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix) grad_in[iy * W + ix] += share;
      }
  }
  return dx;
}

}  // namespace gcam::ops::detail
