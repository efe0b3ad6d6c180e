// gcam/ops/conv2d_relu.h — a convolution and the ReLU after it in one op.
//
//   x (N, C, H, W),  w (K, C/G, kh, kw),  b (K) or undefined
//   forward    y = max(0, conv2d(x, w) + b)                       (gcam/ops/conv2d.h, relu.h)
//   backward   g = the ReLU's rule applied to dy (standard, guided or deconvnet),  dx = conv2d's dx of g
//
// The same bits, forward and backward, as relu(conv2d(x, w, b)); but the bias and the ReLU are applied
// as the convolution writes its output (Winograd's output transform; one pass after it on the other
// paths), where the two ops make two more passes over y and a second tensor, and the node keeps y
// alone. w and b get no gradient: it refuses parameters that require one (train with the two ops).
// VGG runs it where nothing needs the convolution's own output (src/models/layers.cpp).
#pragma once

#include "gcam/ops/conv2d.h"
#include "gcam/tensor.h"

namespace gcam::ops {

Tensor conv2d_relu(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& options = {});

}  // namespace gcam::ops
