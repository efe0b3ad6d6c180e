// max_pool2d.cpp — max pooling that remembers where each maximum came from (on the tape), and routes the
// gradient back there (formulas in gcam/ops/max_pool2d.h).
#include "gcam/ops/max_pool2d.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "../cuda/ops.h"
#include "op_support.h"

namespace gcam::ops {

namespace {

// Where each output's maximum came from: its position q = i·kw + j in the window (row i, column j),
// one byte each for the usual windows (up to 256 taps: 2×2, 3×3), where an index into the plane would
// take eight — VGG-16's five pools at batch 8 record 49 million of them.
template <typename Position>
using Places = std::unique_ptr<Position[]>;

// The input index of window position q of output (oy, ox), as the forward pass below walks it.
inline int64_t input_index(const MaxPool2dOptions& o, int64_t W, int64_t oy, int64_t ox, int64_t q) {
  const int64_t i = q / o.kernel.w, j = q % o.kernel.w;
  return (oy * o.stride.h - o.padding.h + i * o.dilation.h) * W + (ox * o.stride.w - o.padding.w + j * o.dilation.w);
}

template <typename Position>
class MaxPool2dNode : public Node {
 public:
  MaxPool2dNode(Shape input_shape, Shape output_shape, MaxPool2dOptions o, Places<Position> places)
      : input_shape_(input_shape), output_shape_(output_shape), options_(o), places_(std::move(places)) {}
  const char* op() const override { return "max_pool2d"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    if (!needs[0]) return {Tensor()};
    Tensor dx = Tensor::zeros(input_shape_);
    const int64_t planes = input_shape_[0] * input_shape_[1], W = input_shape_[3];
    const int64_t in_plane = input_shape_[2] * W, Ho = output_shape_[2], Wo = output_shape_[3];
    const Position* place = places_.get();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {  // one (n, c) plane per iteration: no write conflicts
      float* dxp = dx.data() + p * in_plane;
      const float* dyp = dy.data() + p * Ho * Wo;
      const Position* q = place + p * Ho * Wo;
      for (int64_t oy = 0; oy < Ho; ++oy)
        for (int64_t ox = 0; ox < Wo; ++ox) dxp[input_index(options_, W, oy, ox, q[oy * Wo + ox])] += dyp[oy * Wo + ox];
    }
    return {dx};
  }

 private:
  Shape input_shape_, output_shape_;
  MaxPool2dOptions options_;
  Places<Position> places_;  // (N, C, Ho, Wo): the window position of each maximum
};

// On the device: the CUDA kernels keep an index into the plane per output (int32).
class CudaMaxPool2dNode : public Node {
 public:
  CudaMaxPool2dNode(Shape input_shape, MaxPool2dOptions o, std::shared_ptr<cuda::DeviceArray<int32_t>> argmax)
      : input_shape_(input_shape), options_(o), argmax_(std::move(argmax)) {}
  const char* op() const override { return "max_pool2d"; }
  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    if (!needs[0]) return {Tensor()};
    return {cuda::max_pool2d_backward(dy, input_shape_, options_, *argmax_)};
  }

 private:
  Shape input_shape_;
  MaxPool2dOptions options_;                           // the CUDA backward's candidate windows
  std::shared_ptr<cuda::DeviceArray<int32_t>> argmax_;  // per output: index of the max in its input plane
};

// The window of output (oy, ox) reads input rows oy·sh − ph + i·dh (i < kh) and columns
// ox·sw − pw + j·dw (j < kw), those inside the plane.

// y and, for each output, the window position q = i·kw + j of its maximum (the first of equal maxima;
// a NaN wins).
template <typename Position>
void max_values_and_places(const Tensor& x, const MaxPool2dOptions& o, Tensor& y, Position* places) {
  const int64_t planes = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), Ho = y.size(2), Wo = y.size(3);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data() + p * H * W;
    float* out = y.data() + p * Ho * Wo;
    Position* where = places + p * Ho * Wo;
    for (int64_t oy = 0; oy < Ho; ++oy)
      for (int64_t ox = 0; ox < Wo; ++ox) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t best_q = -1;
        for (int64_t i = 0; i < o.kernel.h; ++i) {
          const int64_t iy = oy * o.stride.h - o.padding.h + i * o.dilation.h;
          if (iy < 0 || iy >= H) continue;
          for (int64_t j = 0; j < o.kernel.w; ++j) {
            const int64_t ix = ox * o.stride.w - o.padding.w + j * o.dilation.w;
            if (ix < 0 || ix >= W) continue;
            const float v = in[iy * W + ix];
            // Strictly greater keeps the first maximum; a NaN always wins, as in PyTorch.
            if (best_q < 0 || v > best || std::isnan(v)) {
              best = v;
              best_q = i * o.kernel.w + j;
              if (std::isnan(v)) break;
            }
          }
        }
        // Every window holds at least one input pixel (the padding and ceil-mode rules above
        // guarantee it), so best_q is set.
        out[oy * Wo + ox] = best;
        where[oy * Wo + ox] = static_cast<Position>(best_q);
      }
  }
}

// The recorded forward: y, and a node that keeps where each maximum came from, in Position.
template <typename Position>
void record_max_pool(const std::shared_ptr<TapeState>& tape, const Tensor& x, const MaxPool2dOptions& o, Tensor& y) {
  Places<Position> places(new Position[static_cast<size_t>(y.numel())]);  // every entry is written below
  max_values_and_places(x, o, y, places.get());
  autograd::record(tape, std::make_unique<MaxPool2dNode<Position>>(x.shape(), y.shape(), o, std::move(places)), {&x}, y);
}

// Folds v into a running maximum m: a NaN, once in, stays (as max_values_and_places' winner would).
inline float max_keeping_nan(float m, float v) { return (v > m || v != v) ? v : m; }

// y alone, the same values (a maximum is exact: the order it is taken in does not matter). Row by
// row: the columns whose windows lie wholly inside the plane, [inner_begin, inner_end), take every j
// with no test, as one loop over ox that vectorises (this file is built with -fno-trapping-math,
// CMakeLists.txt, so that the select above needs no branch); the few at the edges test each column.
void max_values(const Tensor& x, const MaxPool2dOptions& o, Tensor& y) {
  const int64_t planes = x.size(0) * x.size(1), H = x.size(2), W = x.size(3), Ho = y.size(2), Wo = y.size(3);
  const int64_t sw = o.stride.w, pw = o.padding.w, dw = o.dilation.w, kw = o.kernel.w;
  const int64_t inner_begin = std::min(Wo, (pw + sw - 1) / sw);  // first ox with ox·sw − pw ≥ 0
  const int64_t last_start = W - 1 - (kw - 1) * dw + pw;          // ox·sw ≤ this: the last column fits
  const int64_t inner_end = std::max(inner_begin, std::min(Wo, last_start < 0 ? 0 : last_start / sw + 1));
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data() + p * H * W;
    float* out = y.data() + p * Ho * Wo;
    for (int64_t oy = 0; oy < Ho; ++oy) {
      float* row = out + oy * Wo;
      for (int64_t ox = 0; ox < Wo; ++ox) row[ox] = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < o.kernel.h; ++i) {
        const int64_t iy = oy * o.stride.h - o.padding.h + i * o.dilation.h;
        if (iy < 0 || iy >= H) continue;
        const float* line = in + iy * W;
        for (int64_t j = 0; j < kw; ++j) {
          const int64_t shift = j * dw - pw;  // column ox·sw + shift (inside the row for the inner ox)
          const auto at_edge = [&](int64_t ox) {
            const int64_t ix = ox * sw + shift;
            if (ix >= 0 && ix < W) row[ox] = max_keeping_nan(row[ox], line[ix]);
          };
          for (int64_t ox = 0; ox < inner_begin; ++ox) at_edge(ox);
          for (int64_t ox = inner_begin; ox < inner_end; ++ox) row[ox] = max_keeping_nan(row[ox], line[ox * sw + shift]);
          for (int64_t ox = inner_end; ox < Wo; ++ox) at_edge(ox);
        }
      }
    }
  }
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& options) {
  check_ndim("max_pool2d", "input", x, 4);
  MaxPool2dOptions o = options;
  o.stride = pool_stride(o.kernel, o.stride);
  check_pool_padding("max_pool2d", o.kernel, o.padding);
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t Ho = window_output_size("max_pool2d", H, o.kernel.h, o.stride.h, o.padding.h, o.dilation.h, o.ceil_mode);
  const int64_t Wo = window_output_size("max_pool2d", W, o.kernel.w, o.stride.w, o.padding.w, o.dilation.w, o.ceil_mode);
  if (detail::on_cuda("max_pool2d", {&x})) {
    auto argmax = std::make_shared<cuda::DeviceArray<int32_t>>();
    Tensor y = cuda::max_pool2d(x, o, Ho, Wo, *argmax);
    if (auto tape = autograd::tape_of({&x}))
      autograd::record(tape, std::make_unique<CudaMaxPool2dNode>(x.shape(), o, argmax), {&x}, y);
    return y;
  }
  Tensor y = Tensor::empty(Shape{x.size(0), x.size(1), Ho, Wo});
  const auto tape = autograd::tape_of({&x});
  if (!autograd::stores_nodes(tape)) {  // no backward will come here (inference, or a Grad-CAM pass
    max_values(x, o, y);                // before its layer): the maxima alone
    if (tape) autograd::record(tape, nullptr, {&x}, y);  // (no node is stored: y carries the tape on)
    return y;
  }
  if (o.kernel.h * o.kernel.w <= 256)
    record_max_pool<uint8_t>(tape, x, o, y);
  else
    record_max_pool<uint32_t>(tape, x, o, y);
  return y;
}

}  // namespace gcam::ops
