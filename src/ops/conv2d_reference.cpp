// conv2d_reference.cpp — convolution as the formulas in gcam/ops/conv2d.h say it, one loop per index.
// Slow on purpose: this is the version a reader checks by eye and the fast path is tested against.
#include "gcam/ops/conv2d.h"
#include "gcam/error.h"
#include "op_support.h"

namespace gcam::ops::reference {

namespace {

// Visits every (output element, weight element, input element) triple that the convolution sum
// touches, calling visit(y_index, w_index, x_index).
template <typename Visit>
void for_each_term(const Shape& xs, const Shape& ws, const Shape& ys, const Conv2dOptions& o,
                   Visit visit) {
  const int64_t cg = ws[1], kg = ws[0] / o.groups;
  for (int64_t n = 0; n < ys[0]; ++n)
    for (int64_t k = 0; k < ys[1]; ++k) {
      const int64_t group = k / kg;
      for (int64_t oy = 0; oy < ys[2]; ++oy)
        for (int64_t ox = 0; ox < ys[3]; ++ox) {
          const int64_t y_index = ((n * ys[1] + k) * ys[2] + oy) * ys[3] + ox;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < ws[2]; ++i)
              for (int64_t j = 0; j < ws[3]; ++j) {
                const int64_t iy = oy * o.stride.h - o.padding.h + i * o.dilation.h;
                const int64_t ix = ox * o.stride.w - o.padding.w + j * o.dilation.w;
                if (iy < 0 || iy >= xs[2] || ix < 0 || ix >= xs[3]) continue;  // zero padding
                const int64_t x_channel = group * cg + c;
                const int64_t x_index = ((n * xs[1] + x_channel) * xs[2] + iy) * xs[3] + ix;
                const int64_t w_index = ((k * cg + c) * ws[2] + i) * ws[3] + j;
                visit(y_index, w_index, x_index);
              }
        }
    }
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  detail::require_cpu("conv2d", {&x, &w, &bias});
  const Shape ys = conv2d_output_shape(x.shape(), w.shape(), o);
  Tensor y = Tensor::zeros(ys);
  float* yp = y.data();
  const float* xp = x.data();
  const float* wp = w.data();
  for_each_term(x.shape(), w.shape(), ys, o,
                [&](int64_t yi, int64_t wi, int64_t xi) { yp[yi] += wp[wi] * xp[xi]; });
  if (bias.defined()) {
    const int64_t plane = ys[2] * ys[3];
    for (int64_t i = 0; i < y.numel(); ++i) yp[i] += bias.data()[(i / plane) % ys[1]];
  }
  return y;
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& xs, const Conv2dOptions& o) {
  detail::require_cpu("conv2d backward", {&dy, &w});
  const Shape ys = conv2d_output_shape(xs, w.shape(), o);
  check_same_shape("conv2d backward", "output gradient", ys, dy.shape());
  Tensor dx = Tensor::zeros(xs);
  float* dxp = dx.data();
  const float* dyp = dy.data();
  const float* wp = w.data();
  for_each_term(xs, w.shape(), ys, o,
                [&](int64_t yi, int64_t wi, int64_t xi) { dxp[xi] += wp[wi] * dyp[yi]; });
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& dy, const Tensor& x, const Shape& ws, const Conv2dOptions& o) {
  detail::require_cpu("conv2d backward", {&dy, &x});
  const Shape ys = conv2d_output_shape(x.shape(), ws, o);
  check_same_shape("conv2d backward", "output gradient", ys, dy.shape());
  Tensor dw = Tensor::zeros(ws);
  float* dwp = dw.data();
  const float* dyp = dy.data();
  const float* xp = x.data();
  for_each_term(x.shape(), ws, ys, o,
                [&](int64_t yi, int64_t wi, int64_t xi) { dwp[wi] += dyp[yi] * xp[xi]; });
  return dw;
}

}  // namespace gcam::ops::reference
