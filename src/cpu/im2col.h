// im2col.h — unfolding image patches into matrix columns, and folding them back (internal).
//
// For one image's channels x (C, H, W) and a kernel kh×kw with the window geometry of
// gcam/ops/window.h, the full patch matrix is
//   col (C·kh·kw, Ho·Wo),  col[(c·kh + i)·kw + j][oy·Wo + ox] = x[c][oy·sh − ph + i·dh][ox·sw − pw + j·dw]
// (zero outside the image), and a convolution is one GEMM: y (Cout, Ho·Wo) = W (Cout, C·kh·kw) · col.
// These functions work on a band of output rows [oy_begin, oy_end) at a time, written to (or read
// from) a matrix whose rows are `ld` floats apart, so that the caller can keep the unfolded band
// cache-sized and put bands of several images side by side. col2im is the adjoint: it adds each
// column entry back onto the pixel it came from.
#pragma once

#include <cstdint>

#include "gcam/ops/window.h"

namespace gcam::cpu {

struct PatchGeometry {
  int64_t channels, height, width;  // input (C, H, W)
  Hw kernel, stride, padding, dilation;
  int64_t out_height, out_width;    // (Ho, Wo)
};

struct RowBand {
  int64_t oy_begin, oy_end;  // output rows of one image
  int64_t ld;                // distance between consecutive rows of the column matrix
};

// columns[r][0 : (oy_end − oy_begin)·Wo] = the band's part of row r of col, for r < C·kh·kw.
void im2col(const PatchGeometry& g, const float* image, const RowBand& band, float* columns);
// image += fold(columns) for the band; the caller zeroes image first for a plain fold.
void col2im_add(const PatchGeometry& g, const float* columns, const RowBand& band, float* image);

}  // namespace gcam::cpu
