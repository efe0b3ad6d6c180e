// conv2d_gemm.h — convolution as a matrix product on the GPU (internal to kernels/): the second engine
// beside cuDNN that conv2d.cu times and chooses between (formulas in conv2d_gemm.cu).
#pragma once

#include <cstddef>

#include "gcam/ops/conv2d.h"
#include "gcam/tensor.h"

namespace gcam::cuda {

// Whether this engine takes the shape at all (one group; its column buffer within budget).
bool conv2d_gemm_supported(const Shape& x, const Shape& w, const ops::Conv2dOptions& o);

// Bytes of column buffer a call needs (0 where the input itself is the matrix: 1×1, stride 1, no padding).
std::size_t conv2d_gemm_workspace(const Shape& x, const Shape& w, const ops::Conv2dOptions& o);

// y (N, K, Ho, Wo) = conv(x, w), without bias, written into y.
void conv2d_gemm_forward(const float* x, const float* w, float* y, const Shape& x_shape, const Shape& w_shape,
                         const ops::Conv2dOptions& o, void* workspace);

// dx (N, C, H, W) = the input gradient of conv(·, w) for dy (N, K, Ho, Wo), written into dx.
void conv2d_gemm_backward_data(const float* dy, const float* w, float* dx, const Shape& x_shape, const Shape& w_shape,
                               const ops::Conv2dOptions& o, void* workspace);

}  // namespace gcam::cuda
