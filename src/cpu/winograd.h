// winograd.h — 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (internal).
//
// Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (arXiv 1509.09308): each 2×2 block
// of outputs comes from a 4×4 input tile d as
//   Y = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ (the 3×3 filter g, transformed once and kept with the weights:
//                        src/derived_layouts.h),  V = Bᵀ d B,
//   summed over input channels — so the sum over channels is, for each of the 16 positions ξ of the
//   4×4 transformed tile, one matrix product  M[ξ] (K, tiles) = U[ξ] (K, C) · V[ξ] (C, tiles).
// That is 16 multiplies per 2×2 outputs instead of 36: 2.25× fewer than the direct sum, at the cost of
// cheap linear transforms. The constant matrices:
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]
// The arithmetic differs from the direct sum by float rounding only (all coefficients are 0, ±½, ±1).
#pragma once

#include "../ops/conv_epilogue.h"
#include "gcam/ops/conv2d.h"
#include "gcam/tensor.h"

namespace gcam::cpu {

// True for what this path handles: a 3×3 kernel, stride 1, dilation 1, one group, padding ≤ 2,
// and enough 2×2 output tiles (32) to keep the matrix products wide.
bool winograd_applies(const Shape& x, const Shape& w, const ops::Conv2dOptions& options);

enum class FilterOrientation {
  AsIs,               // the filters of w (K, C, 3, 3)
  FlippedTransposed,  // w′ (C, K, 3, 3), w′[c][k] = w[k][c] rotated by 180°: the input gradient of a
                      // stride-1 convolution by w is the convolution of its output gradient by w′
};

// y (N, K, Ho, Wo) = conv2d(x (N, C, H, W), w (K, C, 3, 3)) without bias; or, FlippedTransposed,
// conv2d(x (N, K, H, W), w′ (C, K, 3, 3)) for w (K, C, 3, 3), without building w′.
// winograd_applies must hold for x, the effective filter shape and options. The epilogue is applied to
// each output as the output transform writes it (ops::ConvEpilogue: + bias, then ReLU), with the bits of
// a pass of its own afterwards.
Tensor winograd_conv3x3(const Tensor& x, const Tensor& w, const ops::Conv2dOptions& options,
                        FilterOrientation orientation = FilterOrientation::AsIs,
                        const ops::ConvEpilogue& epilogue = {});

// dw (K, C, 3, 3) of y = conv2d(x (N, C, H, W), w) for w of shape ws and dy (N, K, Ho, Wo) = ∂L/∂y:
// the adjoint of Y = Aᵀ [U ⊙ V] A with U = G g Gᵀ. Each 2×2 tile of dy becomes D = A dY Aᵀ (4×4),
//   ∂L/∂U[ξ] (K, C) = Σ_t D[ξ][k][t] · V[ξ][c][t]      sixteen products over the tiles t
//   dw[k][c] = Gᵀ ∂L/∂U[k][c] G                          (3×3 from 4×4)
// the same 2.25× fewer multiplies than the direct sum, and V is the forward's input transform (no 9×
// unfolding of x). winograd_applies must hold for x, ws and options.
Tensor winograd_weight_gradient(const Tensor& dy, const Tensor& x, const Shape& ws, const ops::Conv2dOptions& options);

}  // namespace gcam::cpu
