// gcam/ops/conv2d.h — 2-D convolution (cross-correlation, as in PyTorch) with stride, padding,
// dilation and groups.
//
//   x (N, C, H, W),  w (K, C/G, kh, kw),  b (K) or undefined,  y (N, K, Ho, Wo)
//   y[n,k,oy,ox] = b[k] + Σ_{c∈group(k), i, j} w[k,c,i,j] · x[n, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw]
//
// Backward, with dy (N, K, Ho, Wo):
//   dx = the same sum run backwards ("transposed convolution" of dy by w)
//   dw[k,c,i,j] = Σ_{n,oy,ox} dy[n,k,oy,ox] · x[n, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw]
//   db[k] = Σ_{n,oy,ox} dy[n,k,oy,ox]
//
// The fast path unfolds patches (im2col) and runs one SGEMM per image and group; a 1×1, stride-1,
// unpadded convolution skips the unfolding. `reference::` holds the direct loops the tests check it by.
#pragma once

#include "gcam/ops/window.h"
#include "gcam/tensor.h"

namespace gcam::ops {

struct Conv2dOptions {
  Hw stride{1, 1};
  Hw padding{0, 0};
  Hw dilation{1, 1};
  int64_t groups = 1;
};

// Recorded on the tape when x (or w) is. bias may be an undefined Tensor.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& options = {});

// The pieces, unrecorded. Shapes are checked as in conv2d.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& options);
Tensor conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape,
                            const Conv2dOptions& options);
Tensor conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape,
                              const Conv2dOptions& options);
Tensor conv2d_backward_bias(const Tensor& grad_y);  // (K)

// Output shape for x and w, or InputError naming both shapes.
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dOptions& options);

namespace reference {
// Direct loops over the formulas above: slow, obvious, and the yardstick for the fast path.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& options);
Tensor conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape,
                            const Conv2dOptions& options);
Tensor conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape,
                              const Conv2dOptions& options);
}  // namespace reference

}  // namespace gcam::ops
