// average_pool2d.cu — average pooling and adaptive average pooling on the GPU, forward and backward
// (formulas in gcam/ops/avg_pool2d.h and adaptive_avg_pool2d.h; CPU: src/ops/window_average.h).
//
//   forward   y[p, oy, ox] = (1/D) · Σ_{(iy, ix) ∈ window(oy, ox)} x[p, iy, ix]
//   backward  dx[p, iy, ix] = Σ_{(oy, ox) whose window holds (iy, ix)} dy[p, oy, ox] / D(oy, ox)
// The backward gathers per input pixel (no atomics: deterministic). The windows are the CPU's, rule
// for rule: window() below mirrors window_at() in src/ops/avg_pool2d.cpp and adaptive_avg_pool2d.cpp.
#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

struct Geometry {
  int64_t planes, H, W, Ho, Wo;
  bool adaptive;
  int64_t kh, kw, sh, sw, ph, pw;
  bool count_include_pad;
};

struct Window {
  int64_t y0, y1, x0, x1;  // input rows [y0, y1) × columns [x0, x1)
  float divisor;
};

__device__ Window window(const Geometry& g, int64_t oy, int64_t ox) {
  if (g.adaptive) {  // rows [⌊oy·H/Ho⌋, ⌈(oy+1)·H/Ho⌉), columns likewise
    const int64_t y0 = oy * g.H / g.Ho, y1 = ((oy + 1) * g.H + g.Ho - 1) / g.Ho;
    const int64_t x0 = ox * g.W / g.Wo, x1 = ((ox + 1) * g.W + g.Wo - 1) / g.Wo;
    return {y0, y1, x0, x1, static_cast<float>((y1 - y0) * (x1 - x0))};
  }
  int64_t y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  int64_t y1 = min(y0 + g.kh, g.H + g.ph), x1 = min(x0 + g.kw, g.W + g.pw);
  const int64_t padded_count = (y1 - y0) * (x1 - x0);
  y0 = max(y0, int64_t{0});
  x0 = max(x0, int64_t{0});
  y1 = min(y1, g.H);
  x1 = min(x1, g.W);
  const int64_t inside_count = (y1 - y0) * (x1 - x0);
  return {y0, y1, x0, x1, static_cast<float>(g.count_include_pad ? padded_count : inside_count)};
}

// A superset of the outputs whose window can hold input row i (the caller tests each).
__device__ void candidates(const Geometry& g, int64_t i, int64_t size, int64_t out, int64_t k, int64_t s, int64_t p,
                           int64_t* lo, int64_t* hi) {
  if (g.adaptive) {
    *lo = max(int64_t{0}, i * out / size - 1);
    *hi = min(out - 1, ((i + 1) * out + size - 1) / size);
  } else {
    const int64_t top = i + p - (k - 1);
    *lo = top <= 0 ? 0 : (top + s - 1) / s;
    *hi = min(out - 1, (i + p) / s);
  }
}

__global__ void average_forward(const float* x, Geometry g, float* y, int64_t n) {
  for (int64_t o = first_index(); o < n; o += grid_stride()) {
    const int64_t p = o / (g.Ho * g.Wo), oy = o / g.Wo % g.Ho, ox = o % g.Wo;
    const Window w = window(g, oy, ox);
    const float* in = x + p * g.H * g.W;
    float sum = 0.0f;
    for (int64_t iy = w.y0; iy < w.y1; ++iy)
      for (int64_t ix = w.x0; ix < w.x1; ++ix) sum += in[iy * g.W + ix];
    y[o] = sum / w.divisor;
  }
}

__global__ void average_backward(const float* dy, Geometry g, float* dx, int64_t n) {
  for (int64_t idx = first_index(); idx < n; idx += grid_stride()) {
    const int64_t p = idx / (g.H * g.W), iy = idx / g.W % g.H, ix = idx % g.W;
    int64_t y0, y1, x0, x1;
    candidates(g, iy, g.H, g.Ho, g.kh, g.sh, g.ph, &y0, &y1);
    candidates(g, ix, g.W, g.Wo, g.kw, g.sw, g.pw, &x0, &x1);
    float sum = 0.0f;
    for (int64_t oy = y0; oy <= y1; ++oy)
      for (int64_t ox = x0; ox <= x1; ++ox) {
        const Window w = window(g, oy, ox);
        if (iy >= w.y0 && iy < w.y1 && ix >= w.x0 && ix < w.x1) sum += dy[(p * g.Ho + oy) * g.Wo + ox] / w.divisor;
      }
    dx[idx] = sum;
  }
}

Geometry geometry(const Shape& x, int64_t out_h, int64_t out_w, const AverageWindows& w) {
  const ops::AvgPool2dOptions& f = w.fixed;
  return {x[0] * x[1], x[2], x[3], out_h, out_w, w.adaptive, f.kernel.h, f.kernel.w, f.stride.h, f.stride.w,
          f.padding.h, f.padding.w, f.count_include_pad};
}

}  // namespace

Tensor average_pool2d(const Tensor& x, int64_t out_h, int64_t out_w, const AverageWindows& windows) {
  Tensor y = device_empty(Shape{x.size(0), x.size(1), out_h, out_w});
  const int64_t n = y.numel();
  if (n == 0) return y;
  average_forward<<<grid_for(n), kThreads, 0, stream()>>>(x.data(), geometry(x.shape(), out_h, out_w, windows),
                                                          y.data(), n);
  GCAM_CHECK_LAUNCH();
  return y;
}

Tensor average_pool2d_backward(const Tensor& dy, const Shape& x_shape, const AverageWindows& windows) {
  Tensor dx = device_empty(x_shape);
  const int64_t n = dx.numel();
  if (n == 0) return dx;
  average_backward<<<grid_for(n), kThreads, 0, stream()>>>(
      dy.data(), geometry(x_shape, dy.size(2), dy.size(3), windows), dx.data(), n);
  GCAM_CHECK_LAUNCH();
  return dx;
}

}  // namespace gcam::cuda
