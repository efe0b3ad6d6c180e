// gcam/ops/window.h — the sliding-window geometry shared by convolution and pooling.
//
// For an input extent `in`, kernel k, stride s, padding p and dilation d, the window at output
// position o covers input positions  o·s − p + j·d  for j = 0 … k−1, and
//   out = floor((in + 2p − d·(k−1) − 1) / s) + 1                  (floor mode)
//   out = ceil ((in + 2p − d·(k−1) − 1) / s) + 1, minus one if the last window would start
//         entirely in the right padding                           (ceil mode, pooling only)
#pragma once

#include <cstdint>

namespace gcam {

// A pair of extents for the height and width axes. `Hw(3)` is 3×3.
struct Hw {
  int64_t h = 0;
  int64_t w = 0;
  Hw() = default;
  Hw(int64_t both) : h(both), w(both) {}  // NOLINT: implicit on purpose, `stride = 2` reads well
  Hw(int64_t h_, int64_t w_) : h(h_), w(w_) {}
};

// Output extent of a window op along one axis; throws InputError naming `op` if no window fits.
int64_t window_output_size(const char* op, int64_t in, int64_t kernel, int64_t stride,
                           int64_t padding, int64_t dilation, bool ceil_mode);

// Pooling's stride: a 0 extent means "equal to the kernel", as in PyTorch.
Hw pool_stride(Hw kernel, Hw stride);
// Pooling pads with values that never win (max) or count (average): at most half the kernel, as in
// PyTorch; more is an InputError naming `op`.
void check_pool_padding(const char* op, Hw kernel, Hw padding);

}  // namespace gcam
