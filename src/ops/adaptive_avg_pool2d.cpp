// adaptive_avg_pool2d.cpp — average pooling to a fixed output size (formulas in the header).
#include "gcam/ops/adaptive_avg_pool2d.h"

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

int64_t window_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
int64_t window_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

class AdaptiveAvgPool2dNode : public Node {
 public:
  explicit AdaptiveAvgPool2dNode(Shape input_shape) : input_shape_(input_shape) {}
  const char* op() const override { return "adaptive_avg_pool2d"; }
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
      for (int64_t oy = 0; oy < Ho; ++oy) {
        const int64_t y0 = window_start(oy, H, Ho), y1 = window_end(oy, H, Ho);
        for (int64_t ox = 0; ox < Wo; ++ox) {
          const int64_t x0 = window_start(ox, W, Wo), x1 = window_end(ox, W, Wo);
          const float share = dyp[oy * Wo + ox] / static_cast<float>((y1 - y0) * (x1 - x0));
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) dxp[iy * W + ix] += share;
        }
      }
    }
    return {dx};
  }

 private:
  Shape input_shape_;
};

}  // namespace

Tensor adaptive_avg_pool2d(const Tensor& x, Hw output_size) {
  check_ndim("adaptive_avg_pool2d", "input", x, 4);
  detail::require_cpu("adaptive_avg_pool2d", {&x});
  const int64_t H = x.size(2), W = x.size(3), Ho = output_size.h, Wo = output_size.w;
  GCAM_CHECK(Ho > 0 && Wo > 0, "adaptive_avg_pool2d: output size must be positive, got ", Ho, "x", Wo);
  GCAM_CHECK(H > 0 && W > 0, "adaptive_avg_pool2d: empty input ", x.shape().str());
  const int64_t planes = x.size(0) * x.size(1);
  Tensor y = Tensor::empty(Shape{x.size(0), x.size(1), Ho, Wo});
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data() + p * H * W;
    float* out = y.data() + p * Ho * Wo;
    for (int64_t oy = 0; oy < Ho; ++oy) {
      const int64_t y0 = window_start(oy, H, Ho), y1 = window_end(oy, H, Ho);
      for (int64_t ox = 0; ox < Wo; ++ox) {
        const int64_t x0 = window_start(ox, W, Wo), x1 = window_end(ox, W, Wo);
        float sum = 0.0f;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) sum += in[iy * W + ix];
        out[oy * Wo + ox] = sum / static_cast<float>((y1 - y0) * (x1 - x0));
      }
    }
  }
  if (auto tape = autograd::tape_of({&x}))
    autograd::record(tape, std::make_unique<AdaptiveAvgPool2dNode>(x.shape()), {&x}, y);
  return y;
}

}  // namespace gcam::ops
