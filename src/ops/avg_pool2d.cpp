// avg_pool2d.cpp — average pooling, forward and backward (formulas in gcam/ops/avg_pool2d.h).
#include "gcam/ops/avg_pool2d.h"

#include <algorithm>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

// The window of one output position: rows [y0, y1) × columns [x0, x1) of the input, and its divisor.
struct Window {
  int64_t y0, y1, x0, x1;
  float divisor;
};

Window window_at(int64_t oy, int64_t ox, int64_t H, int64_t W, const AvgPool2dOptions& o) {
  int64_t y0 = oy * o.stride.h - o.padding.h, x0 = ox * o.stride.w - o.padding.w;
  int64_t y1 = std::min(y0 + o.kernel.h, H + o.padding.h);
  int64_t x1 = std::min(x0 + o.kernel.w, W + o.padding.w);
  const int64_t padded_count = (y1 - y0) * (x1 - x0);  // positions inside the padded input
  y0 = std::max<int64_t>(y0, 0);
  x0 = std::max<int64_t>(x0, 0);
  y1 = std::min(y1, H);
  x1 = std::min(x1, W);
  const int64_t inside_count = (y1 - y0) * (x1 - x0);
  return {y0, y1, x0, x1, static_cast<float>(o.count_include_pad ? padded_count : inside_count)};
}

class AvgPool2dNode : public Node {
 public:
  AvgPool2dNode(Shape input_shape, AvgPool2dOptions o) : input_shape_(input_shape), options_(o) {}
  const char* op() const override { return "avg_pool2d"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    if (!needs[0]) return {Tensor()};
    Tensor dx = Tensor::zeros(input_shape_);
    const int64_t H = input_shape_[2], W = input_shape_[3], Ho = dy.size(2), Wo = dy.size(3);
    const int64_t planes = input_shape_[0] * input_shape_[1];
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      float* dxp = dx.data() + p * H * W;
      const float* dyp = dy.data() + p * Ho * Wo;
      for (int64_t oy = 0; oy < Ho; ++oy)
        for (int64_t ox = 0; ox < Wo; ++ox) {
          const Window win = window_at(oy, ox, H, W, options_);
          const float share = dyp[oy * Wo + ox] / win.divisor;
          for (int64_t iy = win.y0; iy < win.y1; ++iy)
            for (int64_t ix = win.x0; ix < win.x1; ++ix) dxp[iy * W + ix] += share;
        }
    }
    return {dx};
  }

 private:
  Shape input_shape_;
  AvgPool2dOptions options_;
};

}  // namespace

Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& options) {
  check_ndim("avg_pool2d", "input", x, 4);
  detail::require_cpu("avg_pool2d", {&x});
  AvgPool2dOptions o = options;
  if (o.stride.h == 0) o.stride.h = o.kernel.h;
  if (o.stride.w == 0) o.stride.w = o.kernel.w;
  GCAM_CHECK(o.padding.h * 2 <= o.kernel.h && o.padding.w * 2 <= o.kernel.w,
             "avg_pool2d: padding must be at most half the kernel (kernel ", o.kernel.h, "x",
             o.kernel.w, ", padding ", o.padding.h, "x", o.padding.w, ")");
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t Ho = window_output_size("avg_pool2d", H, o.kernel.h, o.stride.h, o.padding.h, 1, o.ceil_mode);
  const int64_t Wo = window_output_size("avg_pool2d", W, o.kernel.w, o.stride.w, o.padding.w, 1, o.ceil_mode);
  const int64_t planes = x.size(0) * x.size(1);
  Tensor y = Tensor::empty(Shape{x.size(0), x.size(1), Ho, Wo});
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data() + p * H * W;
    float* out = y.data() + p * Ho * Wo;
    for (int64_t oy = 0; oy < Ho; ++oy)
      for (int64_t ox = 0; ox < Wo; ++ox) {
        const Window win = window_at(oy, ox, H, W, o);
        float sum = 0.0f;
        for (int64_t iy = win.y0; iy < win.y1; ++iy)
          for (int64_t ix = win.x0; ix < win.x1; ++ix) sum += in[iy * W + ix];
        out[oy * Wo + ox] = sum / win.divisor;
      }
  }
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<AvgPool2dNode>(x.shape(), o), {&x}, y);
  return y;
}

}  // namespace gcam::ops
