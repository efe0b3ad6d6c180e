// tanh.cpp — tanh(x) and its backward (formulas in gcam/ops/tanh.h).
#include "gcam/ops/tanh.h"

#include <cmath>

#include "elementwise.h"

namespace gcam::ops {

Tensor tanh(const Tensor& x) {
  return detail::smooth_unary("tanh", x, [](float v) { return std::tanh(v); }, [](float y) { return 1.0f - y * y; });
}

}  // namespace gcam::ops
