// adaptive_avg_pool2d.cpp — average pooling to a fixed output size (formulas in the header).
#include "gcam/ops/adaptive_avg_pool2d.h"

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "../cuda/ops.h"
#include "op_support.h"
#include "window_average.h"

namespace gcam::ops {

namespace {

// Output row oy of Ho averages input rows [floor(oy·H/Ho), ceil((oy+1)·H/Ho)); columns likewise.
detail::AverageWindow window_at(int64_t oy, int64_t ox, const Shape& in, int64_t Ho, int64_t Wo) {
  const int64_t H = in[2], W = in[3];
  const int64_t y0 = (oy * H) / Ho, y1 = ((oy + 1) * H + Ho - 1) / Ho;
  const int64_t x0 = (ox * W) / Wo, x1 = ((ox + 1) * W + Wo - 1) / Wo;
  return {y0, y1, x0, x1, static_cast<float>((y1 - y0) * (x1 - x0))};
}

class AdaptiveAvgPool2dNode : public Node {
 public:
  explicit AdaptiveAvgPool2dNode(Shape input_shape) : input_shape_(input_shape) {}
  const char* op() const override { return "adaptive_avg_pool2d"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    if (!needs[0]) return {Tensor()};
    if (dy.device() == Device::CUDA) return {cuda::average_pool2d_backward(dy, input_shape_, cuda::AverageWindows{true, {}})};
    const int64_t Ho = dy.size(2), Wo = dy.size(3);
    return {detail::spread_over_windows(dy, input_shape_, [&](int64_t oy, int64_t ox) {
      return window_at(oy, ox, input_shape_, Ho, Wo);
    })};
  }

 private:
  Shape input_shape_;
};

}  // namespace

Tensor adaptive_avg_pool2d(const Tensor& x, Hw output_size) {
  check_ndim("adaptive_avg_pool2d", "input", x, 4);
  const int64_t Ho = output_size.h, Wo = output_size.w;
  GCAM_CHECK(Ho > 0 && Wo > 0, "adaptive_avg_pool2d: output size must be positive, got ", Ho, "x", Wo);
  GCAM_CHECK(x.size(2) > 0 && x.size(3) > 0, "adaptive_avg_pool2d: empty input ", x.shape().str());
  const Shape in = x.shape();
  Tensor y = detail::on_cuda("adaptive_avg_pool2d", {&x})
                 ? cuda::average_pool2d(x, Ho, Wo, cuda::AverageWindows{true, {}})
                 : detail::average_over_windows(x, Ho, Wo, [&](int64_t oy, int64_t ox) { return window_at(oy, ox, in, Ho, Wo); });
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<AdaptiveAvgPool2dNode>(x.shape()), {&x}, y);
  return y;
}

}  // namespace gcam::ops
