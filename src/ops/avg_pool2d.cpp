// avg_pool2d.cpp — average pooling, forward and backward (formulas in gcam/ops/avg_pool2d.h).
#include "gcam/ops/avg_pool2d.h"

#include <algorithm>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "../cuda/ops.h"
#include "op_support.h"
#include "window_average.h"

namespace gcam::ops {

namespace {

// The window of output (oy, ox), clipped to the input, and its divisor: the positions inside the
// padded input (count_include_pad) or inside the input only.
detail::AverageWindow window_at(int64_t oy, int64_t ox, int64_t H, int64_t W, const AvgPool2dOptions& o) {
  int64_t y0 = oy * o.stride.h - o.padding.h, x0 = ox * o.stride.w - o.padding.w;
  int64_t y1 = std::min(y0 + o.kernel.h, H + o.padding.h);
  int64_t x1 = std::min(x0 + o.kernel.w, W + o.padding.w);
  const int64_t padded_count = (y1 - y0) * (x1 - x0);
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
    if (dy.device() == Device::CUDA)
      return {cuda::average_pool2d_backward(dy, input_shape_, cuda::AverageWindows{false, options_})};
    const int64_t H = input_shape_[2], W = input_shape_[3];
    return {detail::spread_over_windows(dy, input_shape_, [&](int64_t oy, int64_t ox) {
      return window_at(oy, ox, H, W, options_);
    })};
  }

 private:
  Shape input_shape_;
  AvgPool2dOptions options_;
};

}  // namespace

Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& options) {
  check_ndim("avg_pool2d", "input", x, 4);
  AvgPool2dOptions o = options;
  o.stride = pool_stride(o.kernel, o.stride);
  check_pool_padding("avg_pool2d", o.kernel, o.padding);
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t Ho = window_output_size("avg_pool2d", H, o.kernel.h, o.stride.h, o.padding.h, 1, o.ceil_mode);
  const int64_t Wo = window_output_size("avg_pool2d", W, o.kernel.w, o.stride.w, o.padding.w, 1, o.ceil_mode);
  Tensor y = detail::on_cuda("avg_pool2d", {&x})
                 ? cuda::average_pool2d(x, Ho, Wo, cuda::AverageWindows{false, o})
                 : detail::average_over_windows(x, Ho, Wo, [&](int64_t oy, int64_t ox) { return window_at(oy, ox, H, W, o); });
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<AvgPool2dNode>(x.shape(), o), {&x}, y);
  return y;
}

}  // namespace gcam::ops
