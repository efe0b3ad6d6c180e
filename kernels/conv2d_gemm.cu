// conv2d_gemm.cu — convolution as a matrix product: im2col, one cuBLAS SGEMM per batch of images, and
// col2im for the input gradient. Formulas (one group; CPU: src/ops/conv2d.cpp's im2col path):
//
//   R = C·kh·kw rows, P = Ho·Wo columns; for image n
//   cols_n[(c·kh + i)·kw + j][oh·Wo + ow] = x_n[c][oh·sh − ph + i·dh][ow·sw − pw + j·dw]   (0 outside)
//   forward          y_n (K×P) = W (K×R) · cols_n (R×P)
//   backward-data    cols_n (R×P) = Wᵀ (R×K) · dy_n (K×P),   then
//                    dx_n[c][h][w] = Σ_{i,j} cols_n[(c·kh + i)·kw + j][oh·Wo + ow]
//                    over the (i, j) whose oh = (h + ph − i·dh)/sh and ow = (w + pw − j·dw)/sw are
//                    whole and inside the output (a gather: each dx element sums in a fixed order).
//
// Why a second engine: at batch 1 the deep layers of ResNet-50 and VGG-16 have few output pixels
// (7×7, 14×14) and many channels, and cuDNN's FP32 kernels there leave most of the GPU idle. cuBLAS's
// SGEMM splits such a product along its long inner dimension R. GPU time on an H200 (graph replays,
// bench_cuda's cuda_conv_by_engine rows), resnet50.layer4.1.conv2 at batch 1: forward 0.065 ms by cuDNN,
// 0.024 by this engine; layer3.1.conv2 0.052 and 0.024. At batch 8 and on large planes cuDNN wins (up to
// 4× on vgg16's features.7). conv2d.cu times both engines on each shape and keeps the faster, so this
// one runs only where it wins: resnet50's whole Grad-CAM graph at batch 1 went from 3.41 to 1.41 ms.
//
// 1×1 convolutions with stride 1 and no padding need no columns: x_n is already the (C×P) matrix.
// Otherwise the columns of as many images as fit kColumnBudget are made at a time, then multiplied in
// one strided-batched call (W shared: stride 0).
#include "conv2d_gemm.h"

#include "../src/cuda/conv_columns.h"
#include "gemm.h"
#include "launch.h"

namespace gcam::cuda {

namespace {

constexpr std::size_t kColumnBudget = std::size_t{64} << 20;  // bytes of columns at once

// The geometry (cuda/conv_columns.h) and how many images' columns are made and multiplied at once.
struct Geometry : ColumnGeometry {
  bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
  std::size_t image_column_bytes() const { return static_cast<std::size_t>(rows() * columns()) * sizeof(float); }
  int64_t images_per_call() const {
    if (pointwise()) return N;
    return std::clamp<int64_t>(static_cast<int64_t>(kColumnBudget / image_column_bytes()), 1, N);
  }
};

Geometry geometry(const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
  return {column_geometry(x, w, o)};
}

// cols (images, R, P) from x (images, C, H, W); one thread per column element.
__global__ void im2col(const float* x, float* cols, int64_t images, ColumnGeometry g) {
  const int64_t total = images * g.rows() * g.columns();
  for (int64_t e = first_index(); e < total; e += grid_stride()) cols[e] = column_value(x, g, e);
}

// dx (images, C, H, W) from cols (images, R, P); one thread per dx element.
__global__ void col2im(const float* cols, float* dx, int64_t images, ColumnGeometry g) {
  const int64_t total = images * g.C * g.H * g.W;
  for (int64_t e = first_index(); e < total; e += grid_stride()) dx[e] = folded_value(cols, g, e);
}

// round(n0, images) for each round of images [n0, n0 + images) whose columns fit the budget together.
template <typename Round>
void for_each_round(const Geometry& g, Round round) {
  const int64_t step = g.images_per_call();
  for (int64_t n0 = 0; n0 < g.N; n0 += step) round(n0, std::min(step, g.N - n0));
}

}  // namespace

bool conv2d_gemm_supported(const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
  if (o.groups != 1) return false;
  const Geometry g = geometry(x, w, o);
  return g.N > 0 && g.K > 0 && g.rows() > 0 && g.columns() > 0 &&
         (g.pointwise() || g.image_column_bytes() <= kColumnBudget);
}

std::size_t conv2d_gemm_workspace(const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
  const Geometry g = geometry(x, w, o);
  return g.pointwise() ? 0 : static_cast<std::size_t>(g.images_per_call()) * g.image_column_bytes();
}

void conv2d_gemm_forward(const float* x, const float* w, float* y, const Shape& x_shape, const Shape& w_shape,
                         const ops::Conv2dOptions& o, void* workspace) {
  const Geometry g = geometry(x_shape, w_shape, o);
  const int64_t R = g.rows(), P = g.columns();
  for_each_round(g, [&](int64_t n0, int64_t images) {
    const float* x_here = x + n0 * g.C * g.H * g.W;
    const float* cols = x_here;  // pointwise: x_n is cols_n
    if (!g.pointwise()) {
      float* made = static_cast<float*>(workspace);
      im2col<<<grid_for(images * R * P), kThreads, 0, stream()>>>(x_here, made, images, g);
      GCAM_CHECK_LAUNCH();
      cols = made;
    }
    // y_n (K×P) = W (K×R) · cols_n (R×P), for each image of this round
    gemm_row_major_batched(false, false, g.K, P, R, w, R, 0, cols, P, R * P, y + n0 * g.K * P, P, g.K * P, images);
  });
}

void conv2d_gemm_backward_data(const float* dy, const float* w, float* dx, const Shape& x_shape, const Shape& w_shape,
                               const ops::Conv2dOptions& o, void* workspace) {
  const Geometry g = geometry(x_shape, w_shape, o);
  const int64_t R = g.rows(), P = g.columns();
  for_each_round(g, [&](int64_t n0, int64_t images) {
    float* dx_here = dx + n0 * g.C * g.H * g.W;
    float* cols = g.pointwise() ? dx_here : static_cast<float*>(workspace);
    // cols_n (R×P) = Wᵀ (R×K) · dy_n (K×P), for each image of this round
    gemm_row_major_batched(true, false, R, P, g.K, w, R, 0, dy + n0 * g.K * P, P, g.K * P, cols, P, R * P, images);
    if (!g.pointwise()) {
      col2im<<<grid_for(images * g.C * g.H * g.W), kThreads, 0, stream()>>>(cols, dx_here, images, g);
      GCAM_CHECK_LAUNCH();
    }
  });
}

}  // namespace gcam::cuda
