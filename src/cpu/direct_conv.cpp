// direct_conv.cpp — the small-channel direct convolution (formulas in direct_conv.h).
//
// Work is shared out by output row: one row (n, oy) of every output channel per task. Within it, a
// register block is 6 output channels × 16 columns (12 of the 16 AVX registers); per kernel tap it
// costs 2 vector loads of x, 6 broadcasts of w and 12 FMAs. The input rows one output row reads
// (C · kh rows × their phases, ~20 KB for the ResNet stem) stay in L1 across its channel blocks.
#include "direct_conv.h"

#include <algorithm>
#include <vector>

#include <omp.h>


#include "gcam/error.h"
#include "parallel.h"
#include "scratch.h"

#ifdef GCAM_HAVE_DIRECT_CONV
#include <immintrin.h>
#endif

namespace gcam::cpu {

#ifdef GCAM_HAVE_DIRECT_CONV
namespace {

constexpr int64_t kBlockColumns = 16;  // output columns per register block: two 8-float vectors
constexpr int kBlockChannels = 6;      // output channels per register block
constexpr int64_t kMaxBandRows = 8;    // output rows per task

struct Geometry {
  int64_t N, C, H, W, K, kh, kw, sh, sw, ph, pw, Ho, Wo;
  int64_t blocks;      // ⌈Wo / 16⌉ column blocks per output row
  int64_t phase_len;   // floats in one column phase of one input row
  int64_t band_rows;   // output rows per task
  int64_t input_rows;  // input rows a band reads (at most), per channel

  Geometry(const Shape& x, const Shape& w, const ops::Conv2dOptions& o)
      : N(x[0]), C(x[1]), H(x[2]), W(x[3]), K(w[0]), kh(w[2]), kw(w[3]), sh(o.stride.h), sw(o.stride.w),
        ph(o.padding.h), pw(o.padding.w) {
    Ho = (H + 2 * ph - kh) / sh + 1;
    Wo = (W + 2 * pw - kw) / sw + 1;
    blocks = (Wo + kBlockColumns - 1) / kBlockColumns;
    // The last block reads up to column blocks·16 − 1 + ⌊(kw − 1)/s⌋ of a phase.
    phase_len = blocks * kBlockColumns + (kw - 1) / sw;
    // Bands short enough that every thread gets about four of them.
    const int64_t threads = omp_get_max_threads();
    band_rows = std::clamp<int64_t>(N * Ho / (4 * threads), 1, kMaxBandRows);
    input_rows = (band_rows - 1) * sh + kh;
  }
  int64_t row_floats() const { return sw * phase_len; }  // one input row, all its phases
};

// The phases of input rows [r0, r1) of one image, into a band buffer (C, input_rows, s, phase_len):
// phase_q[u] = x[c][y][u·s + q − pw], zero outside the image (the padding, and the spare columns
// of the last block).
void split_rows(const Geometry& g, const float* image, int64_t r0, int64_t r1, float* band) {
  for (int64_t c = 0; c < g.C; ++c) {
    for (int64_t y = r0; y < r1; ++y) {
      const float* in = image + (c * g.H + y) * g.W;
      float* out = band + (c * g.input_rows + y - r0) * g.row_floats();
      for (int64_t q = 0; q < g.sw; ++q) {
        float* phase = out + q * g.phase_len;
        // Columns u·s + q − pw inside [0, W) for u in [u_begin, u_end).
        const int64_t u_begin = std::min(g.phase_len, std::max<int64_t>(0, (g.pw - q + g.sw - 1) / g.sw));
        const int64_t u_end = std::clamp<int64_t>((g.W + g.pw - q + g.sw - 1) / g.sw, u_begin, g.phase_len);
        std::fill(phase, phase + u_begin, 0.0f);
        for (int64_t u = u_begin; u < u_end; ++u) phase[u] = in[u * g.sw + q - g.pw];
        std::fill(phase + u_end, phase + g.phase_len, 0.0f);
      }
    }
  }
}

// packed (⌈K/6⌉, C, kh, kw, 6): the weights of one tap for a block's 6 output channels side by side,
// the last block's missing channels zero.
std::vector<float> pack_weights(const Geometry& g, const float* w) {
  const int64_t taps = g.C * g.kh * g.kw;
  const int64_t channel_blocks = (g.K + kBlockChannels - 1) / kBlockChannels;
  std::vector<float> packed(channel_blocks * taps * kBlockChannels, 0.0f);
  for (int64_t k = 0; k < g.K; ++k)
    for (int64_t t = 0; t < taps; ++t)
      packed[((k / kBlockChannels) * taps + t) * kBlockChannels + k % kBlockChannels] = w[k * taps + t];
  return packed;
}

// Where tap t = (c, i, j) reads in a band buffer, relative to its output row's first input row:
//   (c·input_rows + i)·row_floats + (j mod s)·phase_len + ⌊j / s⌋
std::vector<int64_t> tap_offsets(const Geometry& g) {
  std::vector<int64_t> offsets(g.C * g.kh * g.kw);
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j)
        offsets[(c * g.kh + i) * g.kw + j] =
            (c * g.input_rows + i) * g.row_floats() + (j % g.sw) * g.phase_len + j / g.sw;
  return offsets;
}

// One output row of KB ≤ 6 consecutive channels. Its input row oy·s − p + i is band row
// `first_row` + i; only kernel rows [i_begin, i_end) land inside the image. y_row points at the
// first channel's row; the channels' planes are `plane` floats apart.
struct RowTask {
  const float* band;
  int64_t first_row, i_begin, i_end;
  float* y_row;
  int64_t plane;
};

template <int KB>
void row_of_channels(const Geometry& g, const int64_t* tap_offsets, const float* block_weights, const RowTask& r) {
  for (int64_t b = 0; b < g.blocks; ++b) {
    __m256 acc[KB][2];
    for (int kk = 0; kk < KB; ++kk) acc[kk][0] = acc[kk][1] = _mm256_setzero_ps();
    const int64_t block_start = r.first_row * g.row_floats() + b * kBlockColumns;
    for (int64_t c = 0; c < g.C; ++c) {
      // Channel c's taps (i, j) with i in [i_begin, i_end) are consecutive in (c, i, j) order.
      const int64_t t_end = (c * g.kh + r.i_end) * g.kw;
      for (int64_t t = (c * g.kh + r.i_begin) * g.kw; t < t_end; ++t) {
        const float* src = r.band + (block_start + tap_offsets[t]);
        const __m256 x0 = _mm256_loadu_ps(src), x1 = _mm256_loadu_ps(src + 8);
        const float* wt = block_weights + t * kBlockChannels;
        for (int kk = 0; kk < KB; ++kk) {
          const __m256 wv = _mm256_broadcast_ss(wt + kk);
          acc[kk][0] = _mm256_fmadd_ps(wv, x0, acc[kk][0]);
          acc[kk][1] = _mm256_fmadd_ps(wv, x1, acc[kk][1]);
        }
      }
    }
    const int64_t ox = b * kBlockColumns;
    if (ox + kBlockColumns <= g.Wo) {
      for (int kk = 0; kk < KB; ++kk) {
        _mm256_storeu_ps(r.y_row + kk * r.plane + ox, acc[kk][0]);
        _mm256_storeu_ps(r.y_row + kk * r.plane + ox + 8, acc[kk][1]);
      }
    } else {  // the row's last, partial block, through a buffer
      alignas(32) float result[KB][kBlockColumns];
      for (int kk = 0; kk < KB; ++kk) {
        _mm256_store_ps(result[kk], acc[kk][0]);
        _mm256_store_ps(result[kk] + 8, acc[kk][1]);
      }
      for (int kk = 0; kk < KB; ++kk) std::copy(result[kk], result[kk] + (g.Wo - ox), r.y_row + kk * r.plane + ox);
    }
  }
}

using RowKernel = void (*)(const Geometry&, const int64_t*, const float*, const RowTask&);
constexpr RowKernel kRowKernels[kBlockChannels + 1] = {nullptr,
                                                       row_of_channels<1>,
                                                       row_of_channels<2>,
                                                       row_of_channels<3>,
                                                       row_of_channels<4>,
                                                       row_of_channels<5>,
                                                       row_of_channels<6>};

}  // namespace
#endif

bool direct_conv_applies(const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
#ifdef GCAM_HAVE_DIRECT_CONV
  return o.groups == 1 && o.dilation.h == 1 && o.dilation.w == 1 && x[1] <= 4 && w[2] >= 3 && w[3] >= 3 &&
         o.stride.w <= 4;
#else
  (void)x, (void)w, (void)o;
  return false;
#endif
}

Tensor direct_conv(const Tensor& x, const Tensor& w, const ops::Conv2dOptions& o) {
  GCAM_ASSERT(x.ndim() == 4 && w.ndim() == 4 && direct_conv_applies(x.shape(), w.shape(), o));
#ifdef GCAM_HAVE_DIRECT_CONV
  const Geometry g(x.shape(), w.shape(), o);
  Tensor y = Tensor::empty(Shape{g.N, g.K, g.Ho, g.Wo});
  const std::vector<float> packed = pack_weights(g, w.data());
  const std::vector<int64_t> offsets = tap_offsets(g);
  const int64_t plane = g.Ho * g.Wo, taps = g.C * g.kh * g.kw;
  const int64_t bands_per_image = (g.Ho + g.band_rows - 1) / g.band_rows;
  const float* xp = x.data();
  float* yp = y.data();
  parallel_for(g.N * bands_per_image, [&](int64_t task) {
    const int64_t n = task / bands_per_image, oy0 = task % bands_per_image * g.band_rows;
    const int64_t oy1 = std::min(g.Ho, oy0 + g.band_rows);
    // The band's input rows inside the image, split into phases in this thread's buffer.
    const int64_t r0 = std::clamp<int64_t>(oy0 * g.sh - g.ph, 0, g.H);
    const int64_t r1 = std::clamp<int64_t>((oy1 - 1) * g.sh - g.ph + g.kh, r0, g.H);
    float* band = scratch(ScratchSlot::Phases, g.C * g.input_rows * g.row_floats());
    split_rows(g, xp + n * g.C * g.H * g.W, r0, r1, band);
    for (int64_t oy = oy0; oy < oy1; ++oy) {
      const int64_t top = oy * g.sh - g.ph;  // input row of kernel row 0
      RowTask r{band, top - r0, std::max<int64_t>(0, -top), std::min(g.kh, g.H - top), nullptr, plane};
      for (int64_t k0 = 0; k0 < g.K; k0 += kBlockChannels) {
        const int kb = static_cast<int>(std::min<int64_t>(kBlockChannels, g.K - k0));
        r.y_row = yp + (n * g.K + k0) * plane + oy * g.Wo;
        if (r.i_begin >= r.i_end) {  // the whole kernel over padding
          for (int kk = 0; kk < kb; ++kk) std::fill(r.y_row + kk * plane, r.y_row + kk * plane + g.Wo, 0.0f);
          continue;
        }
        kRowKernels[kb](g, offsets.data(), packed.data() + (k0 / kBlockChannels) * taps * kBlockChannels, r);
      }
    }
  });
  return y;
#else
  (void)o;
  return Tensor();
#endif
}

}  // namespace gcam::cpu
