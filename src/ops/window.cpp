// Output sizes of sliding windows (formulas in gcam/ops/window.h).
#include "gcam/ops/window.h"

#include "gcam/error.h"

namespace gcam {

int64_t window_output_size(const char* op, int64_t in, int64_t kernel, int64_t stride,
                           int64_t padding, int64_t dilation, bool ceil_mode) {
  GCAM_CHECK(kernel > 0 && stride > 0 && dilation > 0 && padding >= 0, op,
             ": kernel, stride and dilation must be positive and padding non-negative (kernel ",
             kernel, ", stride ", stride, ", padding ", padding, ", dilation ", dilation, ")");
  const int64_t span = dilation * (kernel - 1) + 1;  // input positions one window covers
  const int64_t room = in + 2 * padding - span;      // how far the window can slide
  GCAM_CHECK(room >= 0, op, ": kernel extent ", span, " does not fit an input extent of ", in,
             " with padding ", padding);
  int64_t out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  // PyTorch's rule: in ceil mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

Hw pool_stride(Hw kernel, Hw stride) {
  return Hw(stride.h == 0 ? kernel.h : stride.h, stride.w == 0 ? kernel.w : stride.w);
}

void check_pool_padding(const char* op, Hw kernel, Hw padding) {
  GCAM_CHECK(padding.h * 2 <= kernel.h && padding.w * 2 <= kernel.w, op,
             ": padding must be at most half the kernel (kernel ", kernel.h, "x", kernel.w, ", padding ",
             padding.h, "x", padding.w, ")");
}

}  // namespace gcam
