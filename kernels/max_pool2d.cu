// max_pool2d.cu — max pooling on the GPU: the forward records where each maximum came from, the
// backward routes each gradient there (formulas in gcam/ops/max_pool2d.h; CPU: src/ops/max_pool2d.cpp).
//
// The backward gathers instead of scattering: each input pixel sums the gradients of the outputs
// whose recorded maximum it is, in output order. No atomics, so the sum is the same on every run and
// the same as the CPU's.
#include <cfloat>

#include "../src/cuda/ops.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

struct PoolGeometry {
  int64_t planes, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw;
};

__global__ void max_pool_forward(const float* x, PoolGeometry g, float* y, int32_t* argmax, int64_t n) {
  for (int64_t o = first_index(); o < n; o += grid_stride()) {
    const int64_t p = o / (g.Ho * g.Wo), oy = o / g.Wo % g.Ho, ox = o % g.Wo;
    const float* in = x + p * g.H * g.W;
    float best = -INFINITY;
    int64_t best_index = -1;
    bool done = false;
    for (int64_t i = 0; i < g.kh && !done; ++i) {
      const int64_t iy = oy * g.sh - g.ph + i * g.dh;
      if (iy < 0 || iy >= g.H) continue;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t ix = ox * g.sw - g.pw + j * g.dw;
        if (ix < 0 || ix >= g.W) continue;
        const float v = in[iy * g.W + ix];
        // Strictly greater keeps the first maximum; a NaN always wins, as in PyTorch.
        if (best_index < 0 || v > best || isnan(v)) {
          best = v;
          best_index = iy * g.W + ix;
          if (isnan(v)) {
            done = true;
            break;
          }
        }
      }
    }
    y[o] = best;
    argmax[o] = static_cast<int32_t>(best_index);
  }
}

// Outputs whose window can hold input row iy: oy·s − p ≤ iy ≤ oy·s − p + (k − 1)·d.
__device__ void candidates(int64_t i, int64_t k, int64_t s, int64_t p, int64_t d, int64_t out, int64_t* lo, int64_t* hi) {
  const int64_t top = i + p - (k - 1) * d;  // oy·s ≥ top
  *lo = top <= 0 ? 0 : (top + s - 1) / s;
  *hi = min(out - 1, (i + p) / s);
}

__global__ void max_pool_backward(const float* dy, const int32_t* argmax, PoolGeometry g, float* dx, int64_t n) {
  for (int64_t idx = first_index(); idx < n; idx += grid_stride()) {
    const int64_t p = idx / (g.H * g.W), iy = idx / g.W % g.H, ix = idx % g.W;
    const int32_t here = static_cast<int32_t>(iy * g.W + ix);
    int64_t y0, y1, x0, x1;
    candidates(iy, g.kh, g.sh, g.ph, g.dh, g.Ho, &y0, &y1);
    candidates(ix, g.kw, g.sw, g.pw, g.dw, g.Wo, &x0, &x1);
    float sum = 0.0f;
    for (int64_t oy = y0; oy <= y1; ++oy)
      for (int64_t ox = x0; ox <= x1; ++ox) {
        const int64_t o = (p * g.Ho + oy) * g.Wo + ox;
        if (argmax[o] == here) sum += dy[o];
      }
    dx[idx] = sum;
  }
}

PoolGeometry geometry(const Shape& x, int64_t out_h, int64_t out_w, const ops::MaxPool2dOptions& o) {
  return {x[0] * x[1], x[2], x[3], out_h, out_w, o.kernel.h, o.kernel.w, o.stride.h, o.stride.w,
          o.padding.h, o.padding.w, o.dilation.h, o.dilation.w};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const ops::MaxPool2dOptions& o, int64_t out_h, int64_t out_w,
                  DeviceArray<int32_t>& argmax) {
  GCAM_CHECK(x.size(2) * x.size(3) <= INT32_MAX, "max_pool2d: input plane too large for the CUDA path");
  Tensor y = device_empty(Shape{x.size(0), x.size(1), out_h, out_w});
  argmax = DeviceArray<int32_t>(y.numel());
  const int64_t n = y.numel();
  if (n == 0) return y;
  max_pool_forward<<<grid_for(n), kThreads, 0, stream()>>>(x.data(), geometry(x.shape(), out_h, out_w, o),
                                                           y.data(), argmax.data(), n);
  GCAM_CHECK_LAUNCH();
  return y;
}

Tensor max_pool2d_backward(const Tensor& dy, const Shape& x_shape, const ops::MaxPool2dOptions& o,
                           const DeviceArray<int32_t>& argmax) {
  Tensor dx = device_empty(x_shape);
  const int64_t n = dx.numel();
  if (n == 0) return dx;
  max_pool_backward<<<grid_for(n), kThreads, 0, stream()>>>(
      dy.data(), argmax.data(), geometry(x_shape, dy.size(2), dy.size(3), o), dx.data(), n);
  GCAM_CHECK_LAUNCH();
  return dx;
}

}  // namespace gcam::cuda
