// conv2d.cpp — the fast CPU convolution (im2col + SGEMM), its backward, and its tape node.
//
// Per image n and group g, with Kg = K/G output channels and Cg = C/G input channels:
//   col  (Cg·kh·kw, Ho·Wo) = im2col(x[n, g])
//   forward          y[n, g]  (Kg, Ho·Wo)      = w[g] (Kg, Cg·kh·kw) · col
//   backward data    col                        = w[g]ᵀ · dy[n, g],   dx[n, g] = col2im(col)
//   backward weight  dw[g] (Kg, Cg·kh·kw)      += dy[n, g] · colᵀ
#include "gcam/ops/conv2d.h"

#include <cstring>
#include <memory>
#include <vector>

#include "../cpu/gemm.h"
#include "../cpu/im2col.h"
#include "gcam/autograd.h"
#include "gcam/error.h"
#include "op_support.h"

namespace gcam::ops {

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dOptions& o) {
  GCAM_CHECK(x.ndim() == 4, "conv2d: expected input (N, C, H, W), got ", x.str());
  GCAM_CHECK(w.ndim() == 4, "conv2d: expected weight (K, C/groups, kh, kw), got ", w.str());
  GCAM_CHECK(o.groups > 0, "conv2d: groups must be positive, got ", o.groups);
  GCAM_CHECK(x[1] % o.groups == 0 && w[0] % o.groups == 0, "conv2d: groups ", o.groups,
             " must divide input channels ", x[1], " and output channels ", w[0]);
  GCAM_CHECK(w[1] * o.groups == x[1], "conv2d: input ", x.str(), " has ", x[1],
             " channels but weight ", w.str(), " with groups ", o.groups, " expects ",
             w[1] * o.groups);
  GCAM_CHECK(w[0] > 0 && w[2] > 0 && w[3] > 0, "conv2d: empty weight ", w.str());
  const int64_t ho = window_output_size("conv2d", x[2], w[2], o.stride.h, o.padding.h, o.dilation.h, false);
  const int64_t wo = window_output_size("conv2d", x[3], w[3], o.stride.w, o.padding.w, o.dilation.w, false);
  return Shape{x[0], w[0], ho, wo};
}

namespace {

void check_bias(const Tensor& bias, const Shape& w) {
  if (!bias.defined()) return;
  GCAM_CHECK(bias.ndim() == 1 && bias.size(0) == w[0], "conv2d: expected bias of shape (", w[0],
             ") for weight ", w.str(), ", got ", bias.shape().str());
}

cpu::PatchGeometry geometry(const Shape& x, const Shape& w, const Shape& y, const Conv2dOptions& o) {
  return cpu::PatchGeometry{x[1] / o.groups, x[2], x[3], Hw(w[2], w[3]), o.stride, o.padding,
                            o.dilation, y[2], y[3]};
}

// A 1×1, stride-1, unpadded convolution reads x itself as its column matrix.
bool is_pointwise(const Shape& w, const Conv2dOptions& o) {
  return w[2] == 1 && w[3] == 1 && o.stride.h == 1 && o.stride.w == 1 && o.padding.h == 0 &&
         o.padding.w == 0;
}

class Conv2dNode : public Node {
 public:
  Conv2dNode(Tensor x, Tensor w, bool has_bias, Conv2dOptions o)
      : x_(std::move(x)), w_(std::move(w)), has_bias_(has_bias), options_(o) {}
  const char* op() const override { return "conv2d"; }

  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    std::vector<Tensor> grads(needs.size());
    if (needs[0]) grads[0] = conv2d_backward_data(dy, w_, x_.shape(), options_);
    if (needs[1]) grads[1] = conv2d_backward_weight(dy, x_, w_.shape(), options_);
    if (has_bias_ && needs[2]) grads[2] = conv2d_backward_bias(dy);
    return grads;
  }

 private:
  Tensor x_;  // (N, C, H, W): needed for dw
  Tensor w_;  // (K, C/G, kh, kw): needed for dx
  bool has_bias_;
  Conv2dOptions options_;
};

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  detail::require_cpu("conv2d", {&x, &w, &bias});
  const Shape ys = conv2d_output_shape(x.shape(), w.shape(), o);
  check_bias(bias, w.shape());
  Tensor y = Tensor::empty(ys);
  const cpu::PatchGeometry g = geometry(x.shape(), w.shape(), ys, o);
  const int64_t groups = o.groups, kg = ys[1] / groups;
  const int64_t patch = g.channels * g.kernel.h * g.kernel.w;  // Cg·kh·kw
  const int64_t out_plane = ys[2] * ys[3];
  const bool pointwise = is_pointwise(w.shape(), o);
  std::vector<float> col(pointwise ? 0 : static_cast<size_t>(patch * out_plane));

  const float* xp = x.data();
  const float* wp = w.data();
  float* yp = y.data();
  for (int64_t n = 0; n < ys[0]; ++n) {
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* image = xp + (n * x.size(1) + gi * g.channels) * g.height * g.width;
      const float* columns = image;
      if (!pointwise) {
        cpu::im2col(g, image, col.data());
        columns = col.data();
      }
      float* out = yp + (n * ys[1] + gi * kg) * out_plane;
      cpu::sgemm(false, false, kg, out_plane, patch, 1.0f, wp + gi * kg * patch, patch, columns,
                 out_plane, 0.0f, out, out_plane);
    }
  }
  if (bias.defined()) {
    const float* bp = bias.data();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < ys[0]; ++n)
      for (int64_t k = 0; k < ys[1]; ++k) {
        float* plane = yp + (n * ys[1] + k) * out_plane;
        for (int64_t i = 0; i < out_plane; ++i) plane[i] += bp[k];
      }
  }
  return y;
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& xs, const Conv2dOptions& o) {
  detail::require_cpu("conv2d backward", {&dy, &w});
  const Shape ys = conv2d_output_shape(xs, w.shape(), o);
  check_same_shape("conv2d backward", "output gradient", ys, dy.shape());
  Tensor dx = Tensor::zeros(xs);
  const cpu::PatchGeometry g = geometry(xs, w.shape(), ys, o);
  const int64_t groups = o.groups, kg = ys[1] / groups;
  const int64_t patch = g.channels * g.kernel.h * g.kernel.w;
  const int64_t out_plane = ys[2] * ys[3];
  const bool pointwise = is_pointwise(w.shape(), o);
  std::vector<float> col(pointwise ? 0 : static_cast<size_t>(patch * out_plane));

  for (int64_t n = 0; n < ys[0]; ++n) {
    for (int64_t gi = 0; gi < groups; ++gi) {
      float* image = dx.data() + (n * xs[1] + gi * g.channels) * g.height * g.width;
      const float* grad_out = dy.data() + (n * ys[1] + gi * kg) * out_plane;
      // col (Cg·kh·kw, Ho·Wo) = w[g]ᵀ · dy[n, g]; a pointwise conv writes dx directly.
      float* columns = pointwise ? image : col.data();
      cpu::sgemm(true, false, patch, out_plane, kg, 1.0f, w.data() + gi * kg * patch, patch,
                 grad_out, out_plane, 0.0f, columns, out_plane);
      if (!pointwise) cpu::col2im_add(g, col.data(), image);
    }
  }
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& dy, const Tensor& x, const Shape& ws, const Conv2dOptions& o) {
  detail::require_cpu("conv2d backward", {&dy, &x});
  const Shape ys = conv2d_output_shape(x.shape(), ws, o);
  check_same_shape("conv2d backward", "output gradient", ys, dy.shape());
  Tensor dw = Tensor::zeros(ws);
  const cpu::PatchGeometry g = geometry(x.shape(), ws, ys, o);
  const int64_t groups = o.groups, kg = ys[1] / groups;
  const int64_t patch = g.channels * g.kernel.h * g.kernel.w;
  const int64_t out_plane = ys[2] * ys[3];
  const bool pointwise = is_pointwise(ws, o);
  std::vector<float> col(pointwise ? 0 : static_cast<size_t>(patch * out_plane));

  for (int64_t n = 0; n < ys[0]; ++n) {
    for (int64_t gi = 0; gi < groups; ++gi) {
      const float* image = x.data() + (n * x.size(1) + gi * g.channels) * g.height * g.width;
      const float* columns = image;
      if (!pointwise) {
        cpu::im2col(g, image, col.data());
        columns = col.data();
      }
      const float* grad_out = dy.data() + (n * ys[1] + gi * kg) * out_plane;
      // dw[g] (Kg, Cg·kh·kw) += dy[n, g] (Kg, Ho·Wo) · colᵀ
      cpu::sgemm(false, true, kg, patch, out_plane, 1.0f, grad_out, out_plane, columns, out_plane,
                 1.0f, dw.data() + gi * kg * patch, patch);
    }
  }
  return dw;
}

Tensor conv2d_backward_bias(const Tensor& dy) {
  detail::require_cpu("conv2d backward", {&dy});
  check_ndim("conv2d backward", "output gradient", dy, 4);
  const int64_t batch = dy.size(0), channels = dy.size(1), plane = dy.size(2) * dy.size(3);
  Tensor db = Tensor::empty(Shape{channels});
  const float* p = dy.data();
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < channels; ++k) {
    double sum = 0.0;
    for (int64_t n = 0; n < batch; ++n) {
      const float* q = p + (n * channels + k) * plane;
      for (int64_t i = 0; i < plane; ++i) sum += q[i];
    }
    db.data()[k] = static_cast<float>(sum);
  }
  return db;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& options) {
  check_ndim("conv2d", "input", x, 4);
  check_ndim("conv2d", "weight", w, 4);
  Tensor y = conv2d_forward(x, w, bias, options);
  if (auto tape = autograd::tape_of({&x, &w, &bias})) {
    autograd::record(tape, std::make_unique<Conv2dNode>(x, w, bias.defined(), options),
                     {&x, &w, &bias}, y);
  }
  return y;
}

}  // namespace gcam::ops
