// conv2d.cpp — the fast CPU convolution (im2col + SGEMM), its backward, and its tape node.
//
// Per group g, with Kg = K/G output channels, Cg = C/G input channels and P = Cg·kh·kw:
//   col  (P, columns)  the unfolded patches of a set of output positions (im2col, src/cpu/im2col.h)
//   forward          y  (Kg, columns)  = w[g] (Kg, P) · col
//   backward data    col               = w[g]ᵀ · dy (Kg, columns),   dx += col2im(col)
//   backward weight  dw[g] (Kg, P)    += dy · colᵀ
// The columns are every output position of every image, N·Ho·Wo in all, cut into tiles of whole
// output rows (possibly of several images side by side). A tile keeps the unfolded patches
// cache-sized (one image of VGG-16's first block would be 115 MB of them), and lets the 7×7 layers
// at the end of a network give SGEMM a few hundred columns instead of 49.
#include "gcam/ops/conv2d.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include <omp.h>

#include "../cpu/direct_conv.h"
#include "../cpu/gemm.h"
#include "../cpu/im2col.h"
#include "../cpu/parallel.h"
#include "../cpu/scratch.h"
#include "../cpu/winograd.h"
#include "../cuda/ops.h"
#include "conv_epilogue.h"
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

// Output rows [oy_begin, oy_end) of one image, placed at `column` within its tile.
struct Band {
  int64_t image, oy_begin, oy_end, column;
};
struct Tile {
  std::vector<Band> bands;
  int64_t columns = 0;
};

// Cuts the N·Ho output rows into tiles for the GEMMs:
//  - at most about 512K unfolded floats (2 MB) per tile, so that the patches stay in L2/L3 (measured:
//    8 MB tiles ran the ResNet stem and VGG-16 features.28 10-25% slower on this 2-core machine);
//  - at least kMinColumns columns where the layer has them: SGEMM is inefficient on narrower
//    matrices, so the small planes of late layers (7×7) share a tile across images;
//  - about four tiles per thread when the layer is big enough, so that the threads can share them;
//    but a 1×1 convolution's tile is a view of x (nothing to unfold) and its SGEMM is bound by writing
//    y, which goes faster in whole rows: its images are not cut for sharing (one image: one tile, its
//    SGEMM on every thread; measured in-process, 21 alternating calls: ResNet-50 layer1.0.conv3 batch
//    1 forward 0.865 → 0.786 ms, layer1.0.conv1 0.302 → 0.279 ms);
//  - as many tiles as there are threads, or a multiple, once there are that many, with the rows dealt
//    out evenly (sizes differ by at most one row): the threads then take whole tiles and finish
//    together, instead of one waiting on a last, odd-sized tile.
constexpr int64_t kMinColumns = 256;
constexpr int64_t kTileBudgetFloats = int64_t{1} << 19;

std::vector<Tile> plan_tiles(int64_t batch, int64_t out_h, int64_t out_w, int64_t patch, bool pointwise) {
  const int64_t rows = batch * out_h, total = rows * out_w;
  const int64_t threads = omp_get_max_threads();
  const int64_t budget = kTileBudgetFloats / std::max<int64_t>(patch, 1);
  int64_t share = (total + 4 * threads - 1) / (4 * threads);
  if (pointwise) share = std::max(share, out_h * out_w);
  const int64_t target_columns = std::max(kMinColumns, std::min(budget, share));
  const int64_t rows_per_tile = std::max<int64_t>(1, target_columns / std::max<int64_t>(out_w, 1));
  int64_t count = (rows + rows_per_tile - 1) / rows_per_tile;
  if (count >= threads) count = std::min(rows, (count + threads - 1) / threads * threads);
  std::vector<Tile> tiles(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {  // rows [i·rows/count, (i+1)·rows/count) of all N·Ho
    Tile& t = tiles[i];
    for (int64_t r = i * rows / count, end = (i + 1) * rows / count; r < end;) {
      const int64_t n = r / out_h, oy = r % out_h, take = std::min(out_h - oy, end - r);
      t.bands.push_back(Band{n, oy, oy + take, t.columns});
      t.columns += take * out_w;
      r += take;
    }
  }
  return tiles;
}

// True when no two tiles hold rows of the same image: their input footprints are then disjoint.
bool tiles_keep_images_whole(const std::vector<Tile>& tiles) {
  for (size_t i = 1; i < tiles.size(); ++i)
    if (tiles[i].bands.front().oy_begin != 0) return false;
  return true;
}

// Everything the three passes share about one convolution.
struct ConvPlan {
  Shape x, w, y;
  cpu::PatchGeometry geometry;  // per group: Cg input channels
  int64_t groups, kg, patch, out_plane;
  bool pointwise;  // 1×1, stride 1, no padding: x itself is the column matrix
  std::vector<Tile> tiles;

  ConvPlan(const Shape& xs, const Shape& ws, const Conv2dOptions& o)
      : x(xs), w(ws), y(conv2d_output_shape(xs, ws, o)) {
    geometry = cpu::PatchGeometry{x[1] / o.groups, x[2], x[3], Hw(w[2], w[3]), o.stride, o.padding,
                                  o.dilation, y[2], y[3]};
    groups = o.groups;
    kg = y[1] / groups;
    patch = geometry.channels * w[2] * w[3];
    out_plane = y[2] * y[3];
    pointwise = w[2] == 1 && w[3] == 1 && o.stride.h == 1 && o.stride.w == 1 && o.padding.h == 0 &&
                o.padding.w == 0;
    tiles = plan_tiles(y[0], y[2], y[3], patch, pointwise);
  }

  // As many tiles as threads, or more (then a multiple, see plan_tiles): each thread takes whole tiles
  // and runs single-threaded SGEMMs (OpenBLAS does so inside a parallel region), which is faster than
  // splitting every GEMM between the threads. Fewer, wide tiles run one by one, each SGEMM on every thread.
  bool tiles_in_parallel() const {
    const int64_t threads = omp_get_max_threads();
    return threads > 1 && static_cast<int64_t>(tiles.size()) >= threads;
  }

  // A (rows × columns) view: where a tile's matrix lives and how far apart its rows are.
  struct Matrix {
    float* data;
    int64_t ld;
  };

  // The tile's column matrix (P, columns) of group gi, unfolded from the images in x.
  Matrix unfold(const Tile& t, int64_t gi, const float* xp) const {
    const int64_t plane = x[2] * x[3];
    if (pointwise && t.bands.size() == 1) {  // a submatrix of x itself
      const Band& b = t.bands[0];
      return {const_cast<float*>(xp) + (b.image * x[1] + gi * geometry.channels) * plane + b.oy_begin * y[3], plane};
    }
    float* cols = cpu::scratch(cpu::ScratchSlot::Columns, patch * t.columns);
    for (const Band& b : t.bands)
      cpu::im2col(geometry, xp + (b.image * x[1] + gi * geometry.channels) * plane,
                  cpu::RowBand{b.oy_begin, b.oy_end, t.columns}, cols + b.column);
    return {cols, t.columns};
  }

  // The tile's part of an output-shaped tensor (Kg, columns) for group gi: in place when the tile is
  // one band, else gathered into (gather = true) or to be scattered from (gather = false) a buffer.
  Matrix output_tile(const Tile& t, int64_t gi, float* yp, bool gather) const {
    if (t.bands.size() == 1) {
      const Band& b = t.bands[0];
      return {yp + (b.image * y[1] + gi * kg) * out_plane + b.oy_begin * y[3], out_plane};
    }
    float* buffer = cpu::scratch(cpu::ScratchSlot::Tile, kg * t.columns);
    if (gather) copy_bands(t, gi, yp, buffer, true);
    return {buffer, t.columns};
  }

  // Moves a multi-band tile's values between the (Kg, columns) buffer and the output-shaped tensor.
  void copy_bands(const Tile& t, int64_t gi, float* yp, float* buffer, bool to_buffer) const {
    for (const Band& b : t.bands) {
      const int64_t length = (b.oy_end - b.oy_begin) * y[3];
      for (int64_t k = 0; k < kg; ++k) {
        float* in_tensor = yp + (b.image * y[1] + gi * kg + k) * out_plane + b.oy_begin * y[3];
        float* in_buffer = buffer + k * t.columns + b.column;
        if (to_buffer)
          std::memcpy(in_buffer, in_tensor, length * sizeof(float));
        else
          std::memcpy(in_tensor, in_buffer, length * sizeof(float));
      }
    }
  }
};

// out (Kg, columns) = w[g] (Kg, P) · cols (P, columns), tile by tile, into y.
void run_im2col_forward(const ConvPlan& plan, const Tensor& x, const Tensor& w, Tensor& y) {
  auto run_tile = [&](const Tile& t) {
    for (int64_t gi = 0; gi < plan.groups; ++gi) {
      const ConvPlan::Matrix cols = plan.unfold(t, gi, x.data());
      const ConvPlan::Matrix out = plan.output_tile(t, gi, y.data(), false);
      cpu::sgemm(false, false, plan.kg, t.columns, plan.patch, 1.0f, w.data() + gi * plan.kg * plan.patch,
                 plan.patch, cols.data, cols.ld, 0.0f, out.data, out.ld);
      if (t.bands.size() > 1) plan.copy_bands(t, gi, y.data(), out.data, false);
    }
  };
  if (plan.tiles_in_parallel()) {
    cpu::parallel_for(static_cast<int64_t>(plan.tiles.size()), [&](int64_t i) { run_tile(plan.tiles[i]); });
  } else {
    for (const Tile& t : plan.tiles) run_tile(t);
  }
}

class Conv2dNode : public Node {
 public:
  Conv2dNode(Tensor x_if_needed, Shape x_shape, Tensor w, bool has_bias, Conv2dOptions o)
      : x_(std::move(x_if_needed)), x_shape_(x_shape), w_(std::move(w)), has_bias_(has_bias), options_(o) {}
  const char* op() const override { return "conv2d"; }

  std::vector<Tensor> backward(const Tensor& dy, const std::vector<bool>& needs,
                               const BackwardOptions&) const override {
    std::vector<Tensor> grads(needs.size());
    if (needs[0]) grads[0] = conv2d_backward_data(dy, w_, x_shape_, options_);
    if (needs[1]) {
      if (!x_.defined()) autograd::parameter_grad_unavailable("conv2d");
      grads[1] = conv2d_backward_weight(dy, x_, w_.shape(), options_);
    }
    if (has_bias_ && needs[2]) grads[2] = conv2d_backward_bias(dy);
    return grads;
  }

 private:
  Tensor x_;      // (N, C, H, W): kept only when the weight wants its gradient (dw needs it)
  Shape x_shape_;
  Tensor w_;  // (K, C/G, kh, kw): needed for dx
  bool has_bias_;
  Conv2dOptions options_;
};

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  if (detail::on_cuda("conv2d", {&x, &w, &bias})) {
    check_bias(bias, w.shape());
    conv2d_output_shape(x.shape(), w.shape(), o);  // the shape checks
    return cuda::conv2d_forward(x, w, bias, o);
  }
  return detail::conv2d_forward_cpu(x, w, bias, o, false);
}

Tensor detail::conv2d_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o,
                                  bool relu) {
  const ConvPlan plan(x.shape(), w.shape(), o);
  check_bias(bias, w.shape());
  const ConvEpilogue epilogue{bias.defined() ? bias.data() : nullptr, relu};
  Tensor y;
  if (cpu::direct_conv_applies(x.shape(), w.shape(), o)) {
    y = cpu::direct_conv(x, w, o);  // few input channels: no unfolding (src/cpu/direct_conv.h)
  } else if (cpu::winograd_applies(x.shape(), w.shape(), o)) {
    // 3×3, stride 1: 2.25× fewer multiplies (src/cpu/winograd.h), the epilogue as it writes y
    return cpu::winograd_conv3x3(x, w, o, cpu::FilterOrientation::AsIs, epilogue);
  } else {
    y = Tensor::empty(plan.y);
    run_im2col_forward(plan, x, w, y);
  }
  finish_outputs(y, epilogue);  // + bias (then ReLU), one pass
  return y;
}

namespace {

// For stride 1 the input gradient is itself a convolution, of dy with the kernel flipped in space and
// with input and output channels swapped (within each group):
//   dx[c, y, x] = Σ_{k,i,j} dy[k, y + p − i·d, x + p − j·d] · w[k, c, i, j]
//               = conv(dy, w′, padding p′ = d·(kh − 1) − p)[c, y, x],   w′[c, k, i′, j′] = w[k, c, kh−1−i′, kw−1−j′]
// For a 3×3 kernel that is the Winograd path, which builds the transformed w′ directly from w (no flip
// pass; src/cpu/winograd.h). Elsewhere one GEMM (cols = wᵀ·dy) and a fold (col2im) are used.
Conv2dOptions transposed_options(const Shape& w, const Conv2dOptions& o) {
  Conv2dOptions t = o;
  t.padding = Hw(o.dilation.h * (w[2] - 1) - o.padding.h, o.dilation.w * (w[3] - 1) - o.padding.w);
  return t;
}

bool backward_data_as_winograd_convolution(const Shape& dy, const Shape& w, const Conv2dOptions& o) {
  if (o.stride.h != 1 || o.stride.w != 1 || o.padding.h > o.dilation.h * (w[2] - 1) ||
      o.padding.w > o.dilation.w * (w[3] - 1))
    return false;
  const Shape flipped{w[1] * o.groups, w[0] / o.groups, w[2], w[3]};
  return cpu::winograd_applies(dy, flipped, transposed_options(w, o));
}

}  // namespace

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& xs, const Conv2dOptions& o) {
  if (detail::on_cuda("conv2d backward", {&dy, &w})) {
    check_same_shape("conv2d backward", "output gradient", conv2d_output_shape(xs, w.shape(), o), dy.shape());
    return cuda::conv2d_backward_data(dy, w, xs, o);
  }
  const ConvPlan plan(xs, w.shape(), o);
  check_same_shape("conv2d backward", "output gradient", plan.y, dy.shape());
  if (cpu::direct_conv_input_gradient_applies(xs, w.shape(), o))  // few input channels: by phase, no fold (src/cpu/direct_conv.h)
    return cpu::direct_conv_input_gradient(dy, w, xs, o);
  if (backward_data_as_winograd_convolution(dy.shape(), w.shape(), o)) {
    Tensor dx = cpu::winograd_conv3x3(dy, w, transposed_options(w.shape(), o), cpu::FilterOrientation::FlippedTransposed);
    GCAM_ASSERT(dx.shape() == xs);
    return dx;
  }
  Tensor dx = Tensor::zeros(xs);
  const int64_t plane = xs[2] * xs[3];
  auto run_tile = [&](const Tile& t) {
    for (int64_t gi = 0; gi < plan.groups; ++gi) {
      const ConvPlan::Matrix grad = plan.output_tile(t, gi, const_cast<float*>(dy.data()), true);
      // cols (P, columns) = w[g]ᵀ (P, Kg) · dy (Kg, columns), then folded back onto dx.
      if (plan.pointwise && t.bands.size() == 1) {  // the columns are dx itself: no fold
        const Band& b = t.bands[0];
        float* target = dx.data() + (b.image * xs[1] + gi * plan.geometry.channels) * plane + b.oy_begin * xs[3];
        cpu::sgemm(true, false, plan.patch, t.columns, plan.kg, 1.0f, w.data() + gi * plan.kg * plan.patch,
                   plan.patch, grad.data, grad.ld, 0.0f, target, plane);
        continue;
      }
      float* cols = cpu::scratch(cpu::ScratchSlot::Columns, plan.patch * t.columns);
      cpu::sgemm(true, false, plan.patch, t.columns, plan.kg, 1.0f, w.data() + gi * plan.kg * plan.patch,
                 plan.patch, grad.data, grad.ld, 0.0f, cols, t.columns);
      for (const Band& b : t.bands)
        cpu::col2im_add(plan.geometry, cols + b.column, cpu::RowBand{b.oy_begin, b.oy_end, t.columns},
                        dx.data() + (b.image * xs[1] + gi * plan.geometry.channels) * plane);
    }
  };
  // Output row oy folds onto input rows oy·s − p + i·d, i < kh. Tiles hold disjoint output rows, and
  // they write disjoint parts of dx (so can run side by side, as in the forward) when no two output
  // rows share an input row, (kh − 1)·d < s (1×1 kernels at any stride), or when no image is split
  // between two tiles. Otherwise neighbouring tiles add into the same rows and run one after another.
  const bool folds_disjoint =
      (w.size(2) - 1) * o.dilation.h < o.stride.h || tiles_keep_images_whole(plan.tiles);
  if (folds_disjoint && plan.tiles_in_parallel()) {
    cpu::parallel_for(static_cast<int64_t>(plan.tiles.size()), [&](int64_t i) { run_tile(plan.tiles[i]); });
  } else {
    for (const Tile& t : plan.tiles) run_tile(t);
  }
  return dx;
}

Tensor conv2d_backward_weight(const Tensor& dy, const Tensor& x, const Shape& ws, const Conv2dOptions& o) {
  if (detail::on_cuda("conv2d backward", {&dy, &x})) {
    check_same_shape("conv2d backward", "output gradient", conv2d_output_shape(x.shape(), ws, o), dy.shape());
    return cuda::conv2d_backward_weight(dy, x, ws, o);
  }
  const ConvPlan plan(x.shape(), ws, o);
  check_same_shape("conv2d backward", "output gradient", plan.y, dy.shape());
  if (cpu::winograd_applies(x.shape(), ws, o))  // 3×3, stride 1: no unfolding, 2.25× fewer multiplies
    return cpu::winograd_weight_gradient(dy, x, ws, o);
  // dw[g] (Kg, P) += dy (Kg, columns) · colsᵀ (columns, P), summed over the tiles into `into`.
  auto accumulate_tile = [&](const Tile& t, float* into) {
    for (int64_t gi = 0; gi < plan.groups; ++gi) {
      const ConvPlan::Matrix grad = plan.output_tile(t, gi, const_cast<float*>(dy.data()), true);
      const ConvPlan::Matrix cols = plan.unfold(t, gi, x.data());
      cpu::sgemm(false, true, plan.kg, plan.patch, t.columns, 1.0f, grad.data, grad.ld, cols.data, cols.ld,
                 1.0f, into + gi * plan.kg * plan.patch, plan.patch);
    }
  };
  Tensor dw = Tensor::zeros(ws);
  const int64_t tiles = static_cast<int64_t>(plan.tiles.size()), threads = omp_get_max_threads();
  if (tiles < 2 * threads) {  // few, wide tiles: each SGEMM uses every thread
    for (const Tile& t : plan.tiles) accumulate_tile(t, dw.data());
    return dw;
  }
  // Many tiles (training batches): the output dw is small (K·P), so the tiles are cut into one run per
  // thread, each run summed into its own copy with single-threaded SGEMMs (unfolding in parallel too),
  // and the copies added in a fixed order: the same sum on every call, so training is reproducible.
  cpu::sum_in_runs(tiles, threads, dw.numel(), dw.data(),
                   [&](int64_t i, float* into) { accumulate_tile(plan.tiles[i], into); });
  return dw;
}

Tensor conv2d_backward_bias(const Tensor& dy) {
  check_ndim("conv2d backward", "output gradient", dy, 4);
  if (detail::on_cuda("conv2d backward", {&dy})) return cuda::conv2d_backward_bias(dy);
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
    autograd::record(tape,
                     std::make_unique<Conv2dNode>(autograd::keep_for_parameter_grads(x, {&w}), x.shape(), w,
                                                  bias.defined(), options),
                     {&x, &w, &bias}, y);
  }
  return y;
}

}  // namespace gcam::ops
