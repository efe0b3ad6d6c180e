// cuda/ops.h — every op of the engine on the GPU (internal). The public ops in src/ops/ check shapes
// and options, then call these when their tensors live on the device; results stay on the device.
//
// Implementations: kernels/<op>.cu (gcam's own kernels, cuDNN for convolution, cuBLAS for linear);
// in a build without CUDA, src/cuda/ops_stub.cpp, where each throws "built without CUDA".
// Every kernel indexes with 64 bits and guards its bounds; everything runs on cuda::stream().
#pragma once

#include <cstdint>
#include <vector>

#include "device_array.h"
#include "gcam/autograd.h"
#include "gcam/ops/avg_pool2d.h"
#include "gcam/ops/conv2d.h"
#include "gcam/ops/max_pool2d.h"
#include "gcam/tensor.h"

namespace gcam::cuda {

// relu.cu: y = max(x, 0); dx by the rule (gcam/ops/relu.h).
Tensor relu(const Tensor& x);
Tensor relu_backward(const Tensor& dy, const Tensor& y, ReluRule rule);

// add.cu: a + b, acc += x, and a ⊙ b (dropout's mask).
Tensor add(const Tensor& a, const Tensor& b);
void add_into(Tensor& acc, const Tensor& x);
Tensor multiply(const Tensor& a, const Tensor& b);

// batch_norm.cu. Forward: y, and the μ and 1/√(σ² + ε) it used (batch statistics in training, which
// also updates the running statistics in place).
struct BatchNormResult {
  Tensor y, mean, invstd;  // (N, C, H, W), (C), (C)
};
BatchNormResult batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                           Tensor& running_var, bool training, float momentum, float eps);
// Backward: {dx, dγ, dβ}, each only where needs[i]; x may be undefined when neither dγ nor the
// training-mode dx is asked for.
std::vector<Tensor> batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& invstd, bool training, const std::vector<bool>& needs);

// max_pool2d.cu: y (N, C, Ho, Wo) and, per output, the index of its maximum within its input plane.
Tensor max_pool2d(const Tensor& x, const ops::MaxPool2dOptions& o, int64_t out_h, int64_t out_w,
                  DeviceArray<int32_t>& argmax);
Tensor max_pool2d_backward(const Tensor& dy, const Shape& x_shape, const ops::MaxPool2dOptions& o,
                           const DeviceArray<int32_t>& argmax);

// average_pool2d.cu: average pooling (fixed windows) and adaptive average pooling share one geometry.
struct AverageWindows {
  bool adaptive = false;     // windows [⌊o·H/Ho⌋, ⌈(o+1)·H/Ho⌉); otherwise the fields below
  ops::AvgPool2dOptions fixed;  // stride already resolved
};
Tensor average_pool2d(const Tensor& x, int64_t out_h, int64_t out_w, const AverageWindows& windows);
Tensor average_pool2d_backward(const Tensor& dy, const Shape& x_shape, const AverageWindows& windows);

// softmax.cu: over dimension 1 of (N, classes).
Tensor softmax(const Tensor& x, bool log);
Tensor softmax_backward(const Tensor& dy, const Tensor& y, bool log);

// cross_entropy.cu: mean −log softmax(x)[label] as a (1) tensor, and softmax(x) for the backward;
// dx = (p − onehot) · dL / N with dL read on the device.
struct CrossEntropyResult {
  Tensor loss, probabilities;
};
CrossEntropyResult cross_entropy(const Tensor& logits, const DeviceArray<int32_t>& labels);
Tensor cross_entropy_backward(const Tensor& dy, const Tensor& probabilities, const DeviceArray<int32_t>& labels);

// conv2d.cu (cuDNN, or im2col + cuBLAS: conv2d_gemm.cu): the engine and algorithm for each pass and
// shape are chosen once and cached.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ops::Conv2dOptions& o);
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape, const ops::Conv2dOptions& o);
Tensor conv2d_backward_weight(const Tensor& dy, const Tensor& x, const Shape& w_shape, const ops::Conv2dOptions& o);
Tensor conv2d_backward_bias(const Tensor& dy);
// Which engine the forward and backward-data passes may use. Auto (the default) times cuDNN's fastest
// deterministic algorithm against im2col + cuBLAS on each new shape and keeps the faster; Cudnn and
// Gemm force one (tests and benchmarks compare them; Gemm falls back to cuDNN for grouped
// convolutions). Shapes already chosen under another setting stay cached under that one.
enum class ConvEngine { Auto, Cudnn, Gemm };
void set_conv_engine(ConvEngine engine);
ConvEngine conv_engine();

// linear.cu (cuBLAS): y = x·wᵀ + b; dx = dy·w; dw = dyᵀ·x; db = Σ_n dy.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);
Tensor linear_backward_input(const Tensor& dy, const Tensor& w);
Tensor linear_backward_weight(const Tensor& dy, const Tensor& x);
Tensor linear_backward_bias(const Tensor& dy);

}  // namespace gcam::cuda
