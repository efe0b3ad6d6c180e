// winograd.cpp — F(2×2, 3×3) convolution and its weight gradient (the algorithm and its matrices are in
// winograd.h).
//
// The 2×2 output tiles of all images are numbered t = (n·tiles_h + ty)·tiles_w + tx and processed in
// blocks of `block` tiles; per block of the convolution:
//   V (16, C, block)  input transform of every channel's 4×4 tiles
//   M (16, K, block)  M[ξ] = U[ξ] · V[ξ], sixteen SGEMMs
//   y                 output transform of every 4×4 M tile into 2×2 outputs
// and per block of the weight gradient:
//   V (16, C, block)  the same input transform
//   D (16, K, block)  the output gradient's 2×2 tiles, each made 4×4 by the output transform's adjoint
//   dU (16, K, C)     dU[ξ] += D[ξ] · V[ξ]ᵀ, sixteen SGEMMs; after the last block, dw = Gᵀ dU G
// Blocks are independent, so threads take whole blocks and their SGEMMs run single-threaded (the weight
// gradient's threads each sum their own dU, added in a fixed order at the end).
#include "winograd.h"

#include <omp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "../derived_layouts.h"
#include "gcam/error.h"
#include "gemm.h"
#include "parallel.h"
#include "scratch.h"

namespace gcam::cpu {

namespace {

// Below kMinTiles the products are too narrow to pay off. Measured with U kept between calls (bench_conv,
// this path against im2col + SGEMM, alternating binaries, medians): 49 tiles (ResNet-50 layer3 and
// VGG-16 features.28 at batch 1) 1.24–1.81× faster, 128 tiles (ResNet-50 layer4 at batch 8) 1.42–1.55×,
// 16 tiles (layer4 at batch 1) 0.94× forward and 1.16× for the input gradient: mixed, so it stays on
// im2col.
constexpr int64_t kMinTiles = 32;
constexpr int64_t kBlockBudgetFloats = int64_t{1} << 19;  // V and M of one block: about 2 MB (measured
                                                          // faster than 4 or 8 MB on the 2-core dev machine)

// U (16, K, C): U[ξ][k][c] = (G g Gᵀ)[ξ] for the filter g = w[k][c] (row-major 3×3, g0 … g8).
// Made once per weight tensor and kept with it (src/derived_layouts.h): the weights of a network do
// not change between calls, and at batch 1 this transform would cost as much as the products.
Tensor transform_filters(const Tensor& w) {
  const int64_t K = w.size(0), C = w.size(1), count = K * C;
  Tensor u = Tensor::empty(Shape{16, K, C});
  float* up = u.data();
  const float* wp = w.data();
  // Written out in full so that the loop over filters vectorises; it runs in U's order (contiguous
  // writes) and reads the filter w[k][c] of each output position.
#pragma omp parallel for simd schedule(static)
  for (int64_t kc = 0; kc < count; ++kc) {
    const float* g = wp + kc * 9;
    // s = G g (4×3): s0 = g_row0, s1 = ½(row0 + row1 + row2), s2 = ½(row0 − row1 + row2), s3 = row2.
    const float s00 = g[0], s01 = g[1], s02 = g[2];
    const float s10 = 0.5f * (g[0] + g[3] + g[6]), s11 = 0.5f * (g[1] + g[4] + g[7]), s12 = 0.5f * (g[2] + g[5] + g[8]);
    const float s20 = 0.5f * (g[0] - g[3] + g[6]), s21 = 0.5f * (g[1] - g[4] + g[7]), s22 = 0.5f * (g[2] - g[5] + g[8]);
    const float s30 = g[6], s31 = g[7], s32 = g[8];
    // U = s Gᵀ, row i of s (a, b, c) → (a, ½(a + b + c), ½(a − b + c), c).
    float* out = up + kc;
    out[0 * count] = s00;  out[1 * count] = 0.5f * (s00 + s01 + s02);  out[2 * count] = 0.5f * (s00 - s01 + s02);  out[3 * count] = s02;
    out[4 * count] = s10;  out[5 * count] = 0.5f * (s10 + s11 + s12);  out[6 * count] = 0.5f * (s10 - s11 + s12);  out[7 * count] = s12;
    out[8 * count] = s20;  out[9 * count] = 0.5f * (s20 + s21 + s22);  out[10 * count] = 0.5f * (s20 - s21 + s22); out[11 * count] = s22;
    out[12 * count] = s30; out[13 * count] = 0.5f * (s30 + s31 + s32); out[14 * count] = 0.5f * (s30 - s31 + s32); out[15 * count] = s32;
  }
  return u;
}

// Which U[ξ] a product multiplies by, and whether transposed. The flipped, transposed filters
// w′[c][k] = J w[k][c] J (J the 3×3 reversal) need no U of their own: G·J = P·G, where P swaps rows
// 0 and 3, so G (J g J) Gᵀ = P U Pᵀ, and U′[ξ] (C, K) = U[p(ξ)]ᵀ with p swapping indices 0 and 3 of
// both coordinates of ξ = 4i + j.
int64_t source_position(int64_t xi, FilterOrientation orientation) {
  if (orientation == FilterOrientation::AsIs) return xi;
  static constexpr int64_t kSwap03[4] = {3, 1, 2, 0};
  return kSwap03[xi / 4] * 4 + kSwap03[xi % 4];
}

struct Geometry {
  int64_t N, C, H, W, K, Ho, Wo, pad_h, pad_w, tiles_h, tiles_w;
};

// A run of consecutive output tiles in one tile row: tiles (n, ty, tx) for tx in [tx_begin, tx_end),
// at positions [offset, offset + tx_end − tx_begin) of the block.
struct Segment {
  int64_t n, ty, tx_begin, tx_end, offset;
};

std::vector<Segment> segments_of(const Geometry& g, int64_t first, int64_t count) {
  std::vector<Segment> segments;
  for (int64_t t = first; t < first + count;) {
    const int64_t n = t / (g.tiles_h * g.tiles_w), rest = t % (g.tiles_h * g.tiles_w);
    const int64_t ty = rest / g.tiles_w, tx = rest % g.tiles_w;
    const int64_t take = std::min(g.tiles_w - tx, first + count - t);
    segments.push_back(Segment{n, ty, tx, tx + take, t - first});
    t += take;
  }
  return segments;
}

// The four input rows a tile row reads, zero-padded and split into even and odd columns, so that the
// transform below reads every operand contiguously across tiles (and vectorises):
//   rows[r][0][m] = P[r][2m],  rows[r][1][m] = P[r][2m + 1],  P[r][x] = image[2ty − ph + r][x − pw].
void gather_tile_rows(const Geometry& g, const float* image, int64_t ty, float* rows) {
  const int64_t wt = g.tiles_w + 1;
  for (int r = 0; r < 4; ++r) {
    const int64_t y = 2 * ty - g.pad_h + r;
    float* even = rows + (2 * r) * wt;
    float* odd = rows + (2 * r + 1) * wt;
    if (y < 0 || y >= g.H) {
      std::fill(even, even + wt, 0.0f);
      std::fill(odd, odd + wt, 0.0f);
      continue;
    }
    const float* line = image + y * g.W;
    // Columns m whose pair x0 = 2m − pw, x0 + 1 lies inside the row: a plain stride-2 split, which
    // vectorises; only the few columns at either edge look at the padding.
    //   x0 ≥ 0 from m = ⌈pw/2⌉;  x0 + 1 ≤ W − 1 up to m = ⌊(W + pw)/2⌋ − 1.
    const int64_t inside_begin = std::min((g.pad_w + 1) / 2, wt);
    const int64_t inside_end = std::clamp((g.W + g.pad_w) / 2, inside_begin, wt);
    auto checked = [&](int64_t m) {
      const int64_t x0 = 2 * m - g.pad_w, x1 = x0 + 1;
      even[m] = (x0 >= 0 && x0 < g.W) ? line[x0] : 0.0f;
      odd[m] = (x1 >= 0 && x1 < g.W) ? line[x1] : 0.0f;
    };
    for (int64_t m = 0; m < inside_begin; ++m) checked(m);
    for (int64_t m = inside_begin; m < inside_end; ++m) {
      even[m] = line[2 * m - g.pad_w];
      odd[m] = line[2 * m + 1 - g.pad_w];
    }
    for (int64_t m = inside_end; m < wt; ++m) checked(m);
  }
}

// V[ξ][c][t] = (Bᵀ d B)[ξ] for the 4×4 input tile d of every block tile t in every channel c.
void transform_inputs(const Geometry& g, const float* x, const std::vector<Segment>& segments,
                      int64_t count, float* v, bool parallel) {
  const int64_t stride_xi = g.C * count, wt = g.tiles_w + 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t c = 0; c < g.C; ++c) {
    float* rows = scratch(ScratchSlot::Rows, 8 * wt);
    for (const Segment& s : segments) {
      gather_tile_rows(g, x + (s.n * g.C + c) * g.H * g.W, s.ty, rows);
      float* out = v + c * count + s.offset - s.tx_begin;
      // Row r of the tile: (e_r[tx], o_r[tx], e_r[tx+1], o_r[tx+1]). Every loop body below is written
      // out in full, so that the loop over tx is the innermost one and vectorises.
      const float *e0 = rows, *o0 = rows + wt, *e1 = rows + 2 * wt, *o1 = rows + 3 * wt;
      const float *e2 = rows + 4 * wt, *o2 = rows + 5 * wt, *e3 = rows + 6 * wt, *o3 = rows + 7 * wt;
      float* v_row[16];
      for (int xi = 0; xi < 16; ++xi) v_row[xi] = out + xi * stride_xi;
#pragma omp simd  // the sixteen output rows never overlap the input rows or each other
      for (int64_t tx = s.tx_begin; tx < s.tx_end; ++tx) {
        // b = Bᵀ d, column by column: b0 = d0 − d2, b1 = d1 + d2, b2 = d2 − d1, b3 = d1 − d3.
        const float c0_0 = e0[tx] - e2[tx], c0_1 = e1[tx] + e2[tx], c0_2 = e2[tx] - e1[tx], c0_3 = e1[tx] - e3[tx];
        const float c1_0 = o0[tx] - o2[tx], c1_1 = o1[tx] + o2[tx], c1_2 = o2[tx] - o1[tx], c1_3 = o1[tx] - o3[tx];
        const float c2_0 = e0[tx + 1] - e2[tx + 1], c2_1 = e1[tx + 1] + e2[tx + 1];
        const float c2_2 = e2[tx + 1] - e1[tx + 1], c2_3 = e1[tx + 1] - e3[tx + 1];
        const float c3_0 = o0[tx + 1] - o2[tx + 1], c3_1 = o1[tx + 1] + o2[tx + 1];
        const float c3_2 = o2[tx + 1] - o1[tx + 1], c3_3 = o1[tx + 1] - o3[tx + 1];
        // V = b B, row i of b is (c0_i, c1_i, c2_i, c3_i): (r0 − r2, r1 + r2, r2 − r1, r1 − r3).
        v_row[0][tx] = c0_0 - c2_0;  v_row[1][tx] = c1_0 + c2_0;  v_row[2][tx] = c2_0 - c1_0;  v_row[3][tx] = c1_0 - c3_0;
        v_row[4][tx] = c0_1 - c2_1;  v_row[5][tx] = c1_1 + c2_1;  v_row[6][tx] = c2_1 - c1_1;  v_row[7][tx] = c1_1 - c3_1;
        v_row[8][tx] = c0_2 - c2_2;  v_row[9][tx] = c1_2 + c2_2;  v_row[10][tx] = c2_2 - c1_2; v_row[11][tx] = c1_2 - c3_2;
        v_row[12][tx] = c0_3 - c2_3; v_row[13][tx] = c1_3 + c2_3; v_row[14][tx] = c2_3 - c1_3; v_row[15][tx] = c1_3 - c3_3;
      }
    }
  }
}

// y[n][k][2ty + a][2tx + b] = finish((Aᵀ m A)[a][b]) for the 4×4 tile m = M[·][k][t], clipped to the
// output, with finish = of_channel(k) (ops::with_epilogue).
template <typename OfChannel>
void transform_outputs(const Geometry& g, const float* m, const std::vector<Segment>& segments,
                       int64_t count, float* y, bool parallel, const OfChannel& of_channel) {
  const int64_t stride_xi = g.K * count, wt = g.tiles_w;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t k = 0; k < g.K; ++k) {
    float* rows = scratch(ScratchSlot::Rows, 4 * wt);  // out[a][b][tx] before interleaving
    const auto finish = of_channel(k);
    for (const Segment& s : segments) {
      const float* in = m + k * count + s.offset - s.tx_begin;
      const float* m_row[16];
      for (int xi = 0; xi < 16; ++xi) m_row[xi] = in + xi * stride_xi;
      float* __restrict y00 = rows;  // Y[a][b] for every tile, before interleaving into the image
      float* __restrict y01 = rows + wt;
      float* __restrict y10 = rows + 2 * wt;
      float* __restrict y11 = rows + 3 * wt;
#pragma omp simd
      for (int64_t tx = s.tx_begin; tx < s.tx_end; ++tx) {
        // q = Aᵀ m, column j: q0 = m0 + m1 + m2, q1 = m1 − m2 − m3 (m_i = row i of the tile).
        const float q0_0 = m_row[0][tx] + m_row[4][tx] + m_row[8][tx], q1_0 = m_row[4][tx] - m_row[8][tx] - m_row[12][tx];
        const float q0_1 = m_row[1][tx] + m_row[5][tx] + m_row[9][tx], q1_1 = m_row[5][tx] - m_row[9][tx] - m_row[13][tx];
        const float q0_2 = m_row[2][tx] + m_row[6][tx] + m_row[10][tx], q1_2 = m_row[6][tx] - m_row[10][tx] - m_row[14][tx];
        const float q0_3 = m_row[3][tx] + m_row[7][tx] + m_row[11][tx], q1_3 = m_row[7][tx] - m_row[11][tx] - m_row[15][tx];
        // Y = q A: y_a0 = q_a0 + q_a1 + q_a2, y_a1 = q_a1 − q_a2 − q_a3.
        y00[tx] = finish(q0_0 + q0_1 + q0_2);
        y01[tx] = finish(q0_1 - q0_2 - q0_3);
        y10[tx] = finish(q1_0 + q1_1 + q1_2);
        y11[tx] = finish(q1_1 - q1_2 - q1_3);
      }
      float* plane = y + (s.n * g.K + k) * g.Ho * g.Wo;
      for (int a = 0; a < 2; ++a) {
        const int64_t oy = 2 * s.ty + a;
        if (oy >= g.Ho) break;
        float* line = plane + oy * g.Wo;
        const float* even = rows + (2 * a) * wt;
        const float* odd = rows + (2 * a + 1) * wt;
        const int64_t full_end = std::min(s.tx_end, g.Wo / 2);  // tiles whose two columns both exist
        for (int64_t tx = s.tx_begin; tx < full_end; ++tx) {
          line[2 * tx] = even[tx];
          line[2 * tx + 1] = odd[tx];
        }
        if (full_end < s.tx_end) line[2 * full_end] = even[full_end];  // odd Wo: the last half tile
      }
    }
  }
}

// The geometry of a convolution of x (N, C, H, W) by 3×3 filters into K channels, with these options.
Geometry geometry_of(const Shape& x, int64_t K, const ops::Conv2dOptions& o) {
  Geometry g{x[0], x[1], x[2], x[3], K, 0, 0, o.padding.h, o.padding.w, 0, 0};
  g.Ho = g.H + 2 * g.pad_h - 2;
  g.Wo = g.W + 2 * g.pad_w - 2;
  g.tiles_h = (g.Ho + 1) / 2;
  g.tiles_w = (g.Wo + 1) / 2;
  return g;
}

// How the tiles are cut into blocks: {tiles per block, blocks}. Every block re-reads all of U (16·K·C
// floats) for its SGEMMs, so blocks must be wide where U is large (K·C/512 tiles, up to 256); otherwise
// the transformed tiles of a block (16·(C + K)·block floats) stay within the budget. Several blocks are
// shared out to the threads (single-threaded SGEMMs); a lone block shares its own work out instead: its
// transforms by channel, its sixteen SGEMMs by ξ.
std::pair<int64_t, int64_t> cut_blocks(const Geometry& g, int64_t threads) {
  const int64_t tiles = g.N * g.tiles_h * g.tiles_w;
  const int64_t min_width = std::clamp<int64_t>(g.K * g.C / 512, 16, 256);
  const int64_t width = std::max(min_width, kBlockBudgetFloats / (16 * (g.C + g.K)));
  int64_t blocks = (tiles + width - 1) / width;
  if (blocks >= threads) blocks = (blocks + threads - 1) / threads * threads;  // no thread idles at the end
  const int64_t block = (tiles + blocks - 1) / blocks;
  return {block, (tiles + block - 1) / block};
}

// D[ξ][k][t] = (A q Aᵀ)[ξ] for the 2×2 output-gradient tile q = dy[n][k][2ty + a][2tx + b] of every
// block tile t (zero past the output's edge): the adjoint of transform_outputs' Y = Aᵀ m A. With
// A's rows (1, 0), (1, 1), (1, −1), (0, −1), a pair (q0, q1) becomes (q0, q0 + q1, q0 − q1, −q1),
// along the tile's columns, then along its rows.
void transform_output_gradients(const Geometry& g, const float* dy, const std::vector<Segment>& segments,
                                int64_t count, float* d, bool parallel) {
  const int64_t stride_xi = g.K * count, wt = g.tiles_w;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t k = 0; k < g.K; ++k) {
    float* rows = scratch(ScratchSlot::Rows, 4 * wt);  // q[a][b][tx]: the tile row's two dy rows, split
    for (const Segment& s : segments) {
      const float* plane = dy + (s.n * g.K + k) * g.Ho * g.Wo;
      for (int a = 0; a < 2; ++a) {
        float* even = rows + (2 * a) * wt;
        float* odd = rows + (2 * a + 1) * wt;
        const int64_t oy = 2 * s.ty + a;
        for (int64_t tx = s.tx_begin; tx < s.tx_end; ++tx) {
          even[tx] = oy < g.Ho ? plane[oy * g.Wo + 2 * tx] : 0.0f;
          odd[tx] = oy < g.Ho && 2 * tx + 1 < g.Wo ? plane[oy * g.Wo + 2 * tx + 1] : 0.0f;
        }
      }
      const float *q00 = rows, *q01 = rows + wt, *q10 = rows + 2 * wt, *q11 = rows + 3 * wt;
      float* out = d + k * count + s.offset - s.tx_begin;
      float* d_row[16];
      for (int xi = 0; xi < 16; ++xi) d_row[xi] = out + xi * stride_xi;
#pragma omp simd
      for (int64_t tx = s.tx_begin; tx < s.tx_end; ++tx) {
        // Along the columns b, for each row a: w_a = (q_a0, q_a0 + q_a1, q_a0 − q_a1, −q_a1).
        const float w00 = q00[tx], w01 = q00[tx] + q01[tx], w02 = q00[tx] - q01[tx], w03 = -q01[tx];
        const float w10 = q10[tx], w11 = q10[tx] + q11[tx], w12 = q10[tx] - q11[tx], w13 = -q11[tx];
        // Along the rows: D[r][j] = (w0j, w0j + w1j, w0j − w1j, −w1j)[r].
        d_row[0][tx] = w00;        d_row[1][tx] = w01;        d_row[2][tx] = w02;        d_row[3][tx] = w03;
        d_row[4][tx] = w00 + w10;  d_row[5][tx] = w01 + w11;  d_row[6][tx] = w02 + w12;  d_row[7][tx] = w03 + w13;
        d_row[8][tx] = w00 - w10;  d_row[9][tx] = w01 - w11;  d_row[10][tx] = w02 - w12; d_row[11][tx] = w03 - w13;
        d_row[12][tx] = -w10;      d_row[13][tx] = -w11;      d_row[14][tx] = -w12;      d_row[15][tx] = -w13;
      }
    }
  }
}

// dw[k][c] = Gᵀ dU[k][c] G (3×3 from the 4×4 dU[ξ][k][c], ξ = 4r + s): the adjoint of U = G g Gᵀ.
// G's columns are (1, ½, ½, 0), (0, ½, −½, 0), (0, ½, ½, 1): four values (u0, u1, u2, u3) become
// (u0 + ½(u1 + u2), ½(u1 − u2), ½(u1 + u2) + u3), along the rows, then along the columns.
void transform_filter_gradients(const float* du, int64_t K, int64_t C, float* dw) {
  const int64_t count = K * C;
#pragma omp parallel for schedule(static)
  for (int64_t kc = 0; kc < count; ++kc) {
    float t[3][4];  // (Gᵀ dU)[p][s]
    for (int s = 0; s < 4; ++s) {
      const float u0 = du[(0 + s) * count + kc], u1 = du[(4 + s) * count + kc];
      const float u2 = du[(8 + s) * count + kc], u3 = du[(12 + s) * count + kc];
      t[0][s] = u0 + 0.5f * (u1 + u2);
      t[1][s] = 0.5f * (u1 - u2);
      t[2][s] = 0.5f * (u1 + u2) + u3;
    }
    float* g = dw + kc * 9;
    for (int p = 0; p < 3; ++p) {
      g[p * 3 + 0] = t[p][0] + 0.5f * (t[p][1] + t[p][2]);
      g[p * 3 + 1] = 0.5f * (t[p][1] - t[p][2]);
      g[p * 3 + 2] = 0.5f * (t[p][1] + t[p][2]) + t[p][3];
    }
  }
}

}  // namespace

bool winograd_applies(const Shape& x, const Shape& w, const ops::Conv2dOptions& o) {
  if (w[2] != 3 || w[3] != 3 || o.stride.h != 1 || o.stride.w != 1 || o.dilation.h != 1 ||
      o.dilation.w != 1 || o.groups != 1 || o.padding.h > 2 || o.padding.w > 2)
    return false;
  const int64_t out_h = x[2] + 2 * o.padding.h - 2, out_w = x[3] + 2 * o.padding.w - 2;
  if (out_h < 1 || out_w < 1) return false;
  return x[0] * ((out_h + 1) / 2) * ((out_w + 1) / 2) >= kMinTiles;
}

Tensor winograd_conv3x3(const Tensor& x, const Tensor& w, const ops::Conv2dOptions& o,
                        FilterOrientation orientation, const ops::ConvEpilogue& epilogue) {
  const bool flip = orientation == FilterOrientation::FlippedTransposed;
  const Shape effective = flip ? Shape{w.size(1), w.size(0), 3, 3} : w.shape();  // (out, in, 3, 3)
  GCAM_ASSERT(w.ndim() == 4 && winograd_applies(x.shape(), effective, o));
  const Geometry g = geometry_of(x.shape(), effective[0], o);
  const int64_t tiles = g.N * g.tiles_h * g.tiles_w;
  const int64_t threads = omp_get_max_threads();
  const std::pair<int64_t, int64_t> cut = cut_blocks(g, threads);  // (tiles per block, blocks)
  const int64_t block = cut.first, blocks = cut.second;

  // U (16, w.size(0), w.size(1)) of w as it is; the effective filter's U[ξ] is a view of it (see
  // source_position).
  const Tensor u = derived_layout(w, "winograd F(2x2,3x3) filters", [&] { return transform_filters(w); });
  Tensor y = Tensor::empty(Shape{g.N, g.K, g.Ho, g.Wo});
  const float* xp = x.data();
  const float* up = u.data();
  float* yp = y.data();
  // inside: the block's own work is shared out to the threads, for blocks run one at a time.
  auto run_block = [&](int64_t b, bool inside) {
    const int64_t first = b * block, count = std::min(block, tiles - first);
    float* v = scratch(ScratchSlot::Columns, 16 * g.C * count);
    float* m = scratch(ScratchSlot::Tile, 16 * g.K * count);
    const std::vector<Segment> segments = segments_of(g, first, count);
    transform_inputs(g, xp, segments, count, v, inside);
    auto product = [&](int64_t xi) {  // M[ξ] (K, count) = U[ξ] (K, C) · V[ξ] (C, count)
      const float* u_xi = up + source_position(xi, orientation) * g.K * g.C;  // (K, C), or (C, K) flipped
      sgemm(flip, false, g.K, count, g.C, 1.0f, u_xi, flip ? g.K : g.C, v + xi * g.C * count, count, 0.0f,
            m + xi * g.K * count, count);
    };
    if (inside)
      parallel_for(16, product);
    else
      for (int xi = 0; xi < 16; ++xi) product(xi);
    ops::with_epilogue(epilogue, [&](auto of_channel) { transform_outputs(g, m, segments, count, yp, inside, of_channel); });
  };
  if (blocks >= threads && threads > 1) {
    parallel_for(blocks, [&](int64_t b) { run_block(b, false); });
  } else {
    for (int64_t b = 0; b < blocks; ++b) run_block(b, true);
  }
  return y;
}

Tensor winograd_weight_gradient(const Tensor& dy, const Tensor& x, const Shape& ws, const ops::Conv2dOptions& o) {
  GCAM_ASSERT(winograd_applies(x.shape(), ws, o));
  const Geometry g = geometry_of(x.shape(), ws[0], o);
  GCAM_ASSERT(dy.shape() == Shape({g.N, g.K, g.Ho, g.Wo}));
  const int64_t tiles = g.N * g.tiles_h * g.tiles_w, u_size = 16 * g.K * g.C;
  const int64_t threads = omp_get_max_threads();
  const std::pair<int64_t, int64_t> cut = cut_blocks(g, threads);  // (tiles per block, blocks)
  const int64_t block = cut.first, blocks = cut.second;
  const float* xp = x.data();
  const float* dyp = dy.data();
  // du[ξ] (K, C) += D[ξ] (K, count) · V[ξ]ᵀ (count, C) for the tiles of block b. inside: as in the forward.
  auto add_block = [&](int64_t b, float* du, bool inside) {
    const int64_t first = b * block, count = std::min(block, tiles - first);
    float* v = scratch(ScratchSlot::Columns, 16 * g.C * count);
    float* d = scratch(ScratchSlot::Tile, 16 * g.K * count);
    const std::vector<Segment> segments = segments_of(g, first, count);
    transform_inputs(g, xp, segments, count, v, inside);
    transform_output_gradients(g, dyp, segments, count, d, inside);
    auto product = [&](int64_t xi) {
      sgemm(false, true, g.K, g.C, count, 1.0f, d + xi * g.K * count, count, v + xi * g.C * count, count, 1.0f,
            du + xi * g.K * g.C, g.C);
    };
    if (inside)
      parallel_for(16, product);
    else
      for (int xi = 0; xi < 16; ++xi) product(xi);
  };
  std::vector<float> du(static_cast<size_t>(u_size), 0.0f);
  if (blocks >= threads && threads > 1) {
    // One run of consecutive blocks per thread, added in run order (as conv2d's other paths).
    sum_in_runs(blocks, threads, u_size, du.data(), [&](int64_t b, float* into) { add_block(b, into, false); });
  } else {
    for (int64_t b = 0; b < blocks; ++b) add_block(b, du.data(), true);
  }
  Tensor dw = Tensor::empty(ws);
  transform_filter_gradients(du.data(), g.K, g.C, dw.data());
  return dw;
}

}  // namespace gcam::cpu
