// im2col.h — unfolding image patches into matrix columns, and folding them back (internal).
//
// For one image's channels x (C, H, W) and a kernel kh×kw with the window geometry of
// gcam/ops/window.h, im2col writes
//   col (C·kh·kw, Ho·Wo),  col[(c·kh + i)·kw + j][oy·Wo + ox] = x[c][oy·sh − ph + i·dh][ox·sw − pw + j·dw]
// (zero outside the image). A convolution is then one GEMM: y (Cout, Ho·Wo) = W (Cout, C·kh·kw) · col.
// col2im is its adjoint: it adds each column entry back onto the pixel it came from.
#pragma once

#include <cstdint>

#include "gcam/ops/window.h"

namespace gcam::cpu {

struct PatchGeometry {
  int64_t channels, height, width;  // input (C, H, W)
  Hw kernel, stride, padding, dilation;
  int64_t out_height, out_width;    // (Ho, Wo)
};

void im2col(const PatchGeometry& g, const float* image, float* columns);
// image += fold(columns); the caller zeroes image first if it wants a plain fold.
void col2im_add(const PatchGeometry& g, const float* columns, float* image);

}  // namespace gcam::cpu
