// im2col.cpp — patch unfolding for the GEMM convolution (layout in im2col.h).
// Parallel over input channels: each channel owns its rows of `columns` and its plane of `image`,
// so col2im needs no atomics. Two ways to walk a band: any stride, entry by entry; or, for stride 1
// along x, whole rows as shifted windows of one padded input row (below).
#include "im2col.h"

#include <algorithm>
#include <cstring>

namespace gcam::cpu {

namespace {

// The output columns ox whose input column x0 + ox·stride lies inside [0, width): [begin, end).
struct ColumnRange {
  int64_t begin, end;
};
ColumnRange valid_columns(int64_t x0, int64_t stride, int64_t width, int64_t out_width) {
  const int64_t begin = x0 >= 0 ? 0 : (-x0 + stride - 1) / stride;
  const int64_t end = width - x0 <= 0 ? 0 : std::min(out_width, (width - x0 + stride - 1) / stride);
  return {std::min(begin, end), end};
}

void im2col_any_stride(const PatchGeometry& g, const float* image, const RowBand& band, float* columns) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.channels; ++c) {
    const float* plane = image + c * g.height * g.width;
    for (int64_t i = 0; i < g.kernel.h; ++i) {
      for (int64_t j = 0; j < g.kernel.w; ++j) {
        float* row = columns + ((c * g.kernel.h + i) * g.kernel.w + j) * band.ld;
        const int64_t x0 = j * g.dilation.w - g.padding.w;  // input x of output column 0
        for (int64_t oy = band.oy_begin; oy < band.oy_end; ++oy) {
          const int64_t y = oy * g.stride.h - g.padding.h + i * g.dilation.h;
          float* out = row + (oy - band.oy_begin) * g.out_width;
          if (y < 0 || y >= g.height) {
            std::memset(out, 0, sizeof(float) * g.out_width);
            continue;
          }
          const float* in = plane + y * g.width;
          if (g.stride.w == 1 && x0 >= 0 && x0 + g.out_width <= g.width) {
            std::memcpy(out, in + x0, sizeof(float) * g.out_width);  // the common interior case
            continue;
          }
          // Zeros left and right of the image, a strided copy in between (no test per element).
          const ColumnRange r = valid_columns(x0, g.stride.w, g.width, g.out_width);
          for (int64_t ox = 0; ox < r.begin; ++ox) out[ox] = 0.0f;
          const int64_t step = g.stride.w;
          for (int64_t ox = r.begin; ox < r.end; ++ox) out[ox] = in[x0 + ox * step];
          for (int64_t ox = r.end; ox < g.out_width; ++ox) out[ox] = 0.0f;
        }
      }
    }
  }
}

void col2im_add_any_stride(const PatchGeometry& g, const float* columns, const RowBand& band, float* image) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.channels; ++c) {
    float* plane = image + c * g.height * g.width;
    for (int64_t i = 0; i < g.kernel.h; ++i) {
      for (int64_t j = 0; j < g.kernel.w; ++j) {
        const float* row = columns + ((c * g.kernel.h + i) * g.kernel.w + j) * band.ld;
        const int64_t x0 = j * g.dilation.w - g.padding.w;
        for (int64_t oy = band.oy_begin; oy < band.oy_end; ++oy) {
          const int64_t y = oy * g.stride.h - g.padding.h + i * g.dilation.h;
          if (y < 0 || y >= g.height) continue;
          float* out = plane + y * g.width;
          const float* in = row + (oy - band.oy_begin) * g.out_width;
          if (g.stride.w == 1 && x0 >= 0 && x0 + g.out_width <= g.width) {
            for (int64_t ox = 0; ox < g.out_width; ++ox) out[x0 + ox] += in[ox];
            continue;
          }
          const ColumnRange r = valid_columns(x0, g.stride.w, g.width, g.out_width);
          const int64_t step = g.stride.w;
          for (int64_t ox = r.begin; ox < r.end; ++ox) out[x0 + ox * step] += in[ox];
        }
      }
    }
  }
}

// Stride 1 along x: the kw entries j of one output row (c, i, oy) are shifted windows of a single input
// row. That row is laid out once with its zero padding, padded[t] = x[c][y][t − pw] (0 outside), and
//   col[(c·kh + i)·kw + j][oy·Wo + ox] = padded[j·dw + ox],   ox < Wo,
// so every entry is a plain contiguous copy (no per-element bounds, vectorised), and col2im adds the kw
// windows into the padded row before adding its inside back onto x. kMaxPaddedRow bounds the row
// (on the stack); wider rows, and strided ones, take the general loops.
constexpr int64_t kMaxPaddedRow = 2048;

int64_t padded_row_length(const PatchGeometry& g) { return g.out_width + (g.kernel.w - 1) * g.dilation.w; }

bool row_windows_apply(const PatchGeometry& g) {
  return g.stride.w == 1 && padded_row_length(g) <= kMaxPaddedRow;
}

// padded[t] = in[t − pw] for t < length, zero outside [0, width).
void pad_row(const float* in, int64_t width, int64_t pw, int64_t length, float* padded) {
  const int64_t begin = std::min(length, pw), end = std::min(length, pw + width);
  for (int64_t t = 0; t < begin; ++t) padded[t] = 0.0f;
  for (int64_t t = begin; t < end; ++t) padded[t] = in[t - pw];
  for (int64_t t = std::max(begin, end); t < length; ++t) padded[t] = 0.0f;
}

void im2col_row_windows(const PatchGeometry& g, const float* image, const RowBand& band, float* columns) {
  const int64_t length = padded_row_length(g), wo = g.out_width;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.channels; ++c) {
    float padded[kMaxPaddedRow];
    const float* plane = image + c * g.height * g.width;
    for (int64_t i = 0; i < g.kernel.h; ++i) {
      float* rows = columns + (c * g.kernel.h + i) * g.kernel.w * band.ld;  // the kw rows of (c, i)
      for (int64_t oy = band.oy_begin; oy < band.oy_end; ++oy) {
        const int64_t y = oy * g.stride.h - g.padding.h + i * g.dilation.h;
        float* out = rows + (oy - band.oy_begin) * wo;
        if (y < 0 || y >= g.height) {
          for (int64_t j = 0; j < g.kernel.w; ++j) std::memset(out + j * band.ld, 0, sizeof(float) * wo);
          continue;
        }
        pad_row(plane + y * g.width, g.width, g.padding.w, length, padded);
        for (int64_t j = 0; j < g.kernel.w; ++j) {
          const float* window = padded + j * g.dilation.w;
          float* __restrict target = out + j * band.ld;
          for (int64_t ox = 0; ox < wo; ++ox) target[ox] = window[ox];
        }
      }
    }
  }
}

void col2im_add_row_windows(const PatchGeometry& g, const float* columns, const RowBand& band, float* image) {
  const int64_t length = padded_row_length(g), wo = g.out_width, pw = g.padding.w;
  const int64_t begin = std::min(length, pw), end = std::min(length, pw + g.width);  // inside the image
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.channels; ++c) {
    float padded[kMaxPaddedRow];
    float* plane = image + c * g.height * g.width;
    for (int64_t i = 0; i < g.kernel.h; ++i) {
      const float* rows = columns + (c * g.kernel.h + i) * g.kernel.w * band.ld;
      for (int64_t oy = band.oy_begin; oy < band.oy_end; ++oy) {
        const int64_t y = oy * g.stride.h - g.padding.h + i * g.dilation.h;
        if (y < 0 || y >= g.height) continue;
        const float* in = rows + (oy - band.oy_begin) * wo;
        std::fill(padded, padded + length, 0.0f);
        for (int64_t j = 0; j < g.kernel.w; ++j) {
          float* __restrict window = padded + j * g.dilation.w;
          const float* source = in + j * band.ld;
          for (int64_t ox = 0; ox < wo; ++ox) window[ox] += source[ox];
        }
        float* out = plane + y * g.width;
        for (int64_t t = begin; t < end; ++t) out[t - pw] += padded[t];
      }
    }
  }
}

}  // namespace

void im2col(const PatchGeometry& g, const float* image, const RowBand& band, float* columns) {
  if (row_windows_apply(g))
    im2col_row_windows(g, image, band, columns);
  else
    im2col_any_stride(g, image, band, columns);
}

void col2im_add(const PatchGeometry& g, const float* columns, const RowBand& band, float* image) {
  if (row_windows_apply(g))
    col2im_add_row_windows(g, columns, band, image);
  else
    col2im_add_any_stride(g, columns, band, image);
}

}  // namespace gcam::cpu
