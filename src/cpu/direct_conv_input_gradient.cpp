// direct_conv_input_gradient.cpp — the input gradient of the few-channel layers, by input phase.
//
// For y = conv2d(x, w) with stride s and padding p (dilation 1), every input pixel gathers from the
// outputs whose windows cover it:
//   dx[c][y][x] = Σ_{k,i,j} w[k][c][i][j] · dy[k][oy][ox]   over oy·s − p + i = y,  ox·s − p + j = x.
// Split the input rows into their s phases, y = s·u + py (and the columns, x = s·v + px). For a given
// phase, kernel row i reaches y exactly when (py + p − i) is a multiple of s, and then oy = u + a_i with
// a_i = (py + p − i) / s. So each phase (py, px) is an ordinary stride-1 correlation of dy with that
// phase's taps:
//   dx_(py,px)[c][u][v] = Σ_k Σ_{i ∈ I(py), j ∈ J(px)} w[k][c][i][j] · dy[k][u + a_i][v + b_j]
// (dy zero outside the image). ResNet's 7×7/2 stem has phases of 4×4, 4×3, 3×4 and 3×3 taps.
//
// That replaces the GEMM path's column matrix wᵀ·dy (C·kh·kw rows, a short inner dimension of K) and
// its fold (a scattered add per entry of that matrix). Here a register block is 3 channels × 32 consecutive v of
// one phase row (12 accumulators; a layer of fewer channels leaves lanes of zero weights), summed over
// k and the phase's taps: per tap, 3 broadcasts of w and four vector loads of dy feed 12 FMAs. Each
// task (a band of phase rows) first copies the dy rows it reads, with a zero border wide enough for
// every tap's offset and the last block's spare columns, into an L2-sized buffer, so the loop never
// tests a bound.
#include <algorithm>
#include <vector>

#include "direct_conv.h"
#include "gcam/error.h"
#include "parallel.h"
#include "scratch.h"

#ifdef GCAM_HAVE_DIRECT_CONV
#include <immintrin.h>
#endif


namespace gcam::cpu {

#ifdef GCAM_HAVE_DIRECT_CONV
namespace {

constexpr int kLanes = 3;              // channels of dx a block sums (C ≤ 3; unused lanes have zero weights)
constexpr int64_t kBlockColumns = 32;  // phase columns per block: four 8-float vectors

// The taps of one phase along one axis: kernel index and the offset into dy it reads.
struct AxisTap {
  int64_t index, offset;
};

// Kernel positions i ∈ [0, kernel) that reach input phase `phase`, with a_i = (phase + pad − i) / s.
std::vector<AxisTap> axis_taps(int64_t phase, int64_t kernel, int64_t stride, int64_t pad) {
  std::vector<AxisTap> taps;
  for (int64_t i = 0; i < kernel; ++i)
    if ((phase + pad - i) % stride == 0) taps.push_back({i, (phase + pad - i) / stride});
  return taps;
}

// How many of the positions [0, size) lie in phase `phase` of `stride`: s·u + phase < size.
int64_t phase_length(int64_t size, int64_t phase, int64_t stride) { return (size - phase + stride - 1) / stride; }

struct Phase {
  int64_t py, px;
  int64_t rows, columns;  // Hu, Wv: the input rows and columns of this phase
  std::vector<int64_t> dy_offsets;  // per (k, tap (i, j)), into a band: k·band_plane + (a_i − a_low)·padded_w + b_j + left
  std::vector<float> weights;       // (K, taps, kLanes): w[k][c][i][j] at lane c, zero beyond C
};

// One phase row u, columns [v0, v0 + 32), of the (up to) 3 channels, summed over every (k, tap) pair
// (w's lanes and dy's offsets lie in that order); stored to dx[c][s·u + py][s·v + px] for v below the
// phase's width. The twelve accumulators are named, not an array: GCC keeps an array of them in memory
// and stores all twelve on every pair (measured on the stem, alternating with the im2col path: 0.5–0.6×
// its speed that way, 1.35× with named accumulators).
void phase_block(const Phase& ph, const float* dy_row, int64_t channels, float* dx_image, int64_t H, int64_t W,
                 int64_t sh, int64_t sw, int64_t u, int64_t v0) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;  // channel 0, columns v0 + [0, 32)
  __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;                  // channel 1
  __m256 a20 = a00, a21 = a00, a22 = a00, a23 = a00;                  // channel 2
  const float* wk = ph.weights.data();
  const int64_t* offsets = ph.dy_offsets.data();
  const int64_t pairs = static_cast<int64_t>(ph.dy_offsets.size());
  for (int64_t e = 0; e < pairs; ++e, wk += kLanes) {
    const float* src = dy_row + offsets[e];
    const __m256 w0 = _mm256_broadcast_ss(wk), w1 = _mm256_broadcast_ss(wk + 1), w2 = _mm256_broadcast_ss(wk + 2);
    __m256 d = _mm256_loadu_ps(src);
    a00 = _mm256_fmadd_ps(w0, d, a00), a10 = _mm256_fmadd_ps(w1, d, a10), a20 = _mm256_fmadd_ps(w2, d, a20);
    d = _mm256_loadu_ps(src + 8);
    a01 = _mm256_fmadd_ps(w0, d, a01), a11 = _mm256_fmadd_ps(w1, d, a11), a21 = _mm256_fmadd_ps(w2, d, a21);
    d = _mm256_loadu_ps(src + 16);
    a02 = _mm256_fmadd_ps(w0, d, a02), a12 = _mm256_fmadd_ps(w1, d, a12), a22 = _mm256_fmadd_ps(w2, d, a22);
    d = _mm256_loadu_ps(src + 24);
    a03 = _mm256_fmadd_ps(w0, d, a03), a13 = _mm256_fmadd_ps(w1, d, a13), a23 = _mm256_fmadd_ps(w2, d, a23);
  }
  alignas(32) float lanes[kLanes][kBlockColumns];
  _mm256_store_ps(lanes[0], a00), _mm256_store_ps(lanes[0] + 8, a01), _mm256_store_ps(lanes[0] + 16, a02), _mm256_store_ps(lanes[0] + 24, a03);
  _mm256_store_ps(lanes[1], a10), _mm256_store_ps(lanes[1] + 8, a11), _mm256_store_ps(lanes[1] + 16, a12), _mm256_store_ps(lanes[1] + 24, a13);
  _mm256_store_ps(lanes[2], a20), _mm256_store_ps(lanes[2] + 8, a21), _mm256_store_ps(lanes[2] + 16, a22), _mm256_store_ps(lanes[2] + 24, a23);
  const int64_t y = sh * u + ph.py, count = std::min<int64_t>(kBlockColumns, ph.columns - v0);
  for (int64_t c = 0; c < channels; ++c) {
    float* out = dx_image + (c * H + y) * W + sw * v0 + ph.px;
    for (int64_t l = 0; l < count; ++l) out[l * sw] = lanes[c][l];
  }
}

}  // namespace
#endif

bool direct_conv_input_gradient_applies(const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
  return direct_conv_applies(x, w, o) && x[1] <= 3;
}

Tensor direct_conv_input_gradient(const Tensor& dy, const Tensor& w, const Shape& xs, const ops::Conv2dOptions& o) {
  GCAM_ASSERT(dy.ndim() == 4 && w.ndim() == 4 && direct_conv_input_gradient_applies(xs, w.shape(), o));
#ifdef GCAM_HAVE_DIRECT_CONV
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t K = w.size(0), kh = w.size(2), kw = w.size(3), Ho = dy.size(2), Wo = dy.size(3);
  const int64_t sh = o.stride.h, sw = o.stride.w, pad_h = o.padding.h, pw = o.padding.w;

  // The phases' taps; their row offsets a span [a_low, a_high], and their column offsets reach `left`
  // columns before dy and `right` after it (with the last block's spare columns).
  std::vector<std::vector<AxisTap>> row_taps(sh), column_taps(sw);
  int64_t a_low = 0, a_high = 0, left = 0, right = 0;
  for (int64_t py = 0; py < sh; ++py) {
    row_taps[py] = axis_taps(py, kh, sh, pad_h);
    for (const AxisTap& t : row_taps[py]) a_low = std::min(a_low, t.offset), a_high = std::max(a_high, t.offset);
  }
  for (int64_t px = 0; px < sw; ++px) {
    column_taps[px] = axis_taps(px, kw, sw, pw);
    const int64_t columns = phase_length(W, px, sw);
    const int64_t last = (columns + kBlockColumns - 1) / kBlockColumns * kBlockColumns - 1;
    for (const AxisTap& t : column_taps[px]) {
      left = std::max(left, -t.offset);
      right = std::max(right, last + t.offset - (Wo - 1));
    }
  }
  const int64_t padded_w = left + Wo + right;
  // A task is a band of `band` phase rows u of every phase. It copies the dy rows they read, u + a for
  // a in [a_low, a_high], of every k, with the zero border, into its own buffer: sized to stay in this
  // machine's 512 KB L2 beside the rest. Measured, alternating with the im2col path: one copy of the
  // whole image (4 MB for the stem, 15 MB for VGG's first layer) ran the stem at 65 GFLOP/s (1.35×
  // im2col) and VGG's first layer at about 18 (1.07× Winograd); bands, at 98 and 44.
  constexpr int64_t kBandBudgetFloats = int64_t{1} << 16;  // 256 KB
  const int64_t phase_rows = phase_length(H, 0, sh);  // of phase 0, the most
  const int64_t band = std::clamp<int64_t>(kBandBudgetFloats / (K * padded_w) - (a_high - a_low), 1, phase_rows);
  const int64_t band_rows = band + a_high - a_low, band_plane = band_rows * padded_w;

  const float* wp = w.data();
  std::vector<Phase> phases;
  for (int64_t py = 0; py < sh; ++py)
    for (int64_t px = 0; px < sw; ++px) {
      Phase p{py, px, phase_length(H, py, sh), phase_length(W, px, sw), {}, {}};
      const int64_t taps = static_cast<int64_t>(row_taps[py].size() * column_taps[px].size());
      p.weights.assign(static_cast<size_t>(K * taps * kLanes), 0.0f);
      for (int64_t k = 0; k < K; ++k)
        for (const AxisTap& ti : row_taps[py])
          for (const AxisTap& tj : column_taps[px]) {
            for (int64_t c = 0; c < C; ++c)
              p.weights[static_cast<size_t>(p.dy_offsets.size()) * kLanes + c] =
                  wp[((k * C + c) * kh + ti.index) * kw + tj.index];
            p.dy_offsets.push_back(k * band_plane + (ti.offset - a_low) * padded_w + tj.offset + left);
          }
      phases.push_back(std::move(p));
    }

  Tensor dx = Tensor::empty(xs);
  float* dxp = dx.data();
  const float* dyp = dy.data();
  const int64_t bands = (phase_rows + band - 1) / band;
  parallel_for(N * bands, [&](int64_t task) {
    const int64_t n = task / bands, u0 = task % bands * band;
    // buffer (K, band_rows, padded_w): row r of plane k is dy[n][k][u0 + a_low + r], zero outside dy.
    float* buffer = scratch(ScratchSlot::Columns, K * band_plane);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < band_rows; ++r) {
        float* row = buffer + k * band_plane + r * padded_w;
        const int64_t oy = u0 + a_low + r;
        if (oy < 0 || oy >= Ho) {
          std::fill(row, row + padded_w, 0.0f);
          continue;
        }
        const float* source = dyp + ((n * K + k) * Ho + oy) * Wo;
        std::fill(row, row + left, 0.0f);
        std::copy(source, source + Wo, row + left);
        std::fill(row + left + Wo, row + padded_w, 0.0f);
      }
    float* dx_image = dxp + n * C * H * W;
    for (const Phase& p : phases)
      for (int64_t u = u0; u < std::min(u0 + band, p.rows); ++u)
        for (int64_t v0 = 0; v0 < p.columns; v0 += kBlockColumns)  // tap offsets add the tap's row and column
          phase_block(p, buffer + (u - u0) * padded_w + v0, C, dx_image, H, W, sh, sw, u, v0);
  });
  return dx;
#else
  (void)dy, (void)w, (void)xs, (void)o;
  return Tensor();
#endif
}

}  // namespace gcam::cpu
