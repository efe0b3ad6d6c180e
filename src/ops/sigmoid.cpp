// sigmoid.cpp — σ(x) and its backward (formulas in gcam/ops/sigmoid.h).
#include "gcam/ops/sigmoid.h"

#include <cmath>

#include "elementwise.h"

namespace gcam::ops {

Tensor sigmoid(const Tensor& x) {
  // For x < 0, e^x / (1 + e^x): the same value, with no e^(−x) to overflow.
  const auto value = [](float v) {
    if (v >= 0.0f) return 1.0f / (1.0f + std::exp(-v));
    const float e = std::exp(v);
    return e / (1.0f + e);
  };
  return detail::smooth_unary("sigmoid", x, value, [](float y) { return y * (1.0f - y); });
}

}  // namespace gcam::ops
