// direct_conv.h — direct convolution for layers with few input channels (internal).
//
// A network's first layer sees 3 colour channels: ResNet's 7×7/2 stem has a patch of only
// C·kh·kw = 147 values per output. Through im2col + SGEMM it pays for the unfolding (a strided gather)
// and for an SGEMM whose inner dimension is short (measured on the 2-core machine, one 224×224 image,
// same run: im2col 0.6 ms + SGEMM 2.1 ms, against 1.7 ms for this direct kernel).
// This path skips the unfolding and sums the taps straight into registers:
//   y[k][oy][ox] = Σ_{c,i,j} w[k][c][i][j] · x[c][oy·s − p + i][ox·s − p + j]
// vectorised over consecutive ox. With stride s the inputs of consecutive ox lie s apart; each input
// row, padded, is first split into its s column phases
//   phase_q[u] = x_padded[u·s + q],   so   x_padded[ox·s + j] = phase_(j mod s)[ox + ⌊j / s⌋],
// and the 16 inputs of 16 consecutive ox become two plain vector loads.
#pragma once

#include "gcam/ops/conv2d.h"
#include "gcam/tensor.h"

// The kernels are AVX2 + FMA intrinsics; built without them, these paths never apply.
#if defined(__AVX2__) && defined(__FMA__)
#define GCAM_HAVE_DIRECT_CONV 1
#endif

namespace gcam::cpu {

// True for what this path handles: one group, dilation 1, few input channels (C ≤ 4), a kernel of at
// least 3×3 (smaller ones are GEMMs already), and a CPU with AVX2 + FMA at compile time.
bool direct_conv_applies(const Shape& x, const Shape& w, const ops::Conv2dOptions& options);

// y (N, K, Ho, Wo) = conv2d(x (N, C, H, W), w (K, C, kh, kw)) without bias.
Tensor direct_conv(const Tensor& x, const Tensor& w, const ops::Conv2dOptions& options);

// The same layers with at most 3 input channels (one register block sums 3).
bool direct_conv_input_gradient_applies(const Shape& x, const Shape& w, const ops::Conv2dOptions& options);

// dx (N, C, H, W) for dy (N, K, Ho, Wo) of those layers: each of the stride's s × s input phases is a
// stride-1 correlation of dy with the taps that reach it, summed in registers
// (direct_conv_input_gradient.cpp); no column matrix, no fold.
Tensor direct_conv_input_gradient(const Tensor& dy, const Tensor& w, const Shape& x_shape,
                                  const ops::Conv2dOptions& options);

}  // namespace gcam::cpu
