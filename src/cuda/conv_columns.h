// cuda/conv_columns.h — the index arithmetic of convolution as a matrix product (internal): one element
// of im2col's columns, and one element of their fold back onto the input (col2im). The GPU's kernels
// (kernels/conv2d_gemm.cu) run these per thread; tests/test_conv_columns.cpp runs them on the host,
// around a plain matrix product, against the CPU convolution, so the arithmetic is checked in every
// build, GPU or not. One group; formulas in kernels/conv2d_gemm.cu.
#pragma once

#include <cstdint>

#include "gcam/ops/conv2d.h"

#include "../host_device.h"

namespace gcam::cuda {

// One convolution in the letters of the formulas: x (N, C, H, W), w (K, C, kh, kw), y (N, K, Ho, Wo),
// stride (sh, sw), padding (ph, pw), dilation (dh, dw).
struct ColumnGeometry {
  int64_t N, C, H, W, K, kh, kw, Ho, Wo, sh, sw, ph, pw, dh, dw;
  GCAM_HOST_DEVICE int64_t rows() const { return C * kh * kw; }  // R
  GCAM_HOST_DEVICE int64_t columns() const { return Ho * Wo; }   // P
};

inline ColumnGeometry column_geometry(const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
  const Shape y = ops::conv2d_output_shape(x, w, o);
  return {x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3], o.stride.h, o.stride.w, o.padding.h, o.padding.w,
          o.dilation.h, o.dilation.w};
}

// Element e of cols (images, R, P), made from x (images, C, H, W):
//   cols_n[(c·kh + i)·kw + j][oh·Wo + ow] = x_n[c][oh·sh − ph + i·dh][ow·sw − pw + j·dw]   (0 outside)
GCAM_HOST_DEVICE inline float column_value(const float* x, const ColumnGeometry& g, int64_t e) {
  const int64_t R = g.rows(), P = g.columns();
  const int64_t p = e % P, r = (e / P) % R, n = e / (P * R);
  const int64_t c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw;
  const int64_t ih = (p / g.Wo) * g.sh - g.ph + i * g.dh, iw = (p % g.Wo) * g.sw - g.pw + j * g.dw;
  const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
  return inside ? x[((n * g.C + c) * g.H + ih) * g.W + iw] : 0.0f;
}

// Element e of dx (images, C, H, W), folded from cols (images, R, P): the sum over the taps (i, j),
// in order, whose output position oh = (h + ph − i·dh)/sh, ow = (w + pw − j·dw)/sw is whole and inside.
GCAM_HOST_DEVICE inline float folded_value(const float* cols, const ColumnGeometry& g, int64_t e) {
  const int64_t R = g.rows(), P = g.columns();
  const int64_t w = e % g.W, h = (e / g.W) % g.H, c = (e / (g.W * g.H)) % g.C, n = e / (g.W * g.H * g.C);
  const float* image_cols = cols + n * R * P;
  float sum = 0.0f;
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t oh_scaled = h + g.ph - i * g.dh;  // = oh · sh when this tap reaches row h
    if (oh_scaled < 0 || oh_scaled % g.sh != 0 || oh_scaled / g.sh >= g.Ho) continue;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t ow_scaled = w + g.pw - j * g.dw;
      if (ow_scaled < 0 || ow_scaled % g.sw != 0 || ow_scaled / g.sw >= g.Wo) continue;
      sum += image_cols[((c * g.kh + i) * g.kw + j) * P + (oh_scaled / g.sh) * g.Wo + ow_scaled / g.sw];
    }
  }
  return sum;
}

}  // namespace gcam::cuda
