// conv_epilogue.h — what a convolution does to each output as it writes it (internal): add the bias,
// then, for ops::conv2d_relu, the ReLU:
//   y = v + b[k]          (v the sum over the window; no bias: y = v, so that −0 stays −0)
//   y = y > 0 ? y : 0     (relu's own expression)
// Winograd's output transform applies it to each value it writes; the other paths apply it as one pass
// afterwards (finish_outputs). Either way the bits are those of conv2d's bias pass and relu's.
#pragma once

#include <cstdint>

#include "gcam/ops/conv2d.h"
#include "gcam/tensor.h"

namespace gcam::ops {

// One channel's epilogue, the switches fixed at compile time (so that the loops it sits in vectorise).
template <bool kBias, bool kRelu>
struct ChannelEpilogue {
  float bias;
  float operator()(float v) const {
    if constexpr (kBias) v = v + bias;
    if constexpr (kRelu) v = v > 0.0f ? v : 0.0f;
    return v;
  }
};

struct ConvEpilogue {
  const float* bias = nullptr;  // (K), or null for none
  bool relu = false;
};

// Calls f(of_channel), where of_channel(k) is channel k's ChannelEpilogue of the switches e sets.
template <typename F>
void with_epilogue(const ConvEpilogue& e, F&& f) {
  const float* b = e.bias;
  if (b && e.relu) f([b](int64_t k) { return ChannelEpilogue<true, true>{b[k]}; });
  else if (b) f([b](int64_t k) { return ChannelEpilogue<true, false>{b[k]}; });
  else if (e.relu) f([](int64_t) { return ChannelEpilogue<false, true>{0.0f}; });
  else f([](int64_t) { return ChannelEpilogue<false, false>{0.0f}; });
}

// y (N, K, H, W) ← the epilogue of y, in place, plane by plane.
inline void finish_outputs(Tensor& y, const ConvEpilogue& epilogue) {
  if (!epilogue.bias && !epilogue.relu) return;
  const int64_t channels = y.size(1), plane = y.size(2) * y.size(3);
  float* yp = y.data();
  with_epilogue(epilogue, [&](auto of_channel) {
#pragma omp parallel for schedule(static)
    for (int64_t nk = 0; nk < y.size(0) * channels; ++nk) {
      const auto finish = of_channel(nk % channels);
      float* out = yp + nk * plane;
      for (int64_t i = 0; i < plane; ++i) out[i] = finish(out[i]);
    }
  });
}

namespace detail {
// conv2d's CPU forward with its epilogue: + bias, then the ReLU when `relu` (conv2d_relu's forward).
Tensor conv2d_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& options,
                          bool relu);
}  // namespace detail

}  // namespace gcam::ops
