// im2col.cpp — patch unfolding for the GEMM convolution (layout in im2col.h).
// Parallel over input channels: each channel owns its rows of `columns` and its plane of `image`,
// so col2im needs no atomics.
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

}  // namespace

void im2col(const PatchGeometry& g, const float* image, const RowBand& band, float* columns) {
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

void col2im_add(const PatchGeometry& g, const float* columns, const RowBand& band, float* image) {
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

}  // namespace gcam::cpu
