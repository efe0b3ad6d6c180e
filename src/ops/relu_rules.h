// relu_rules.h — the ReLU's three backward rules as one element's gradient (formulas in gcam/ops/relu.h),
// for loops that apply a rule inside a pass of their own (internal).
//
//   with_relu_rule(rule, [&](auto r) { … relu_gradient<r>(dy, y) … });
// runs the lambda with the rule as a compile-time constant, so that the loop inside has no branch on it.
#pragma once

#include <type_traits>

#include "gcam/autograd.h"

namespace gcam::ops::detail {

template <ReluRule kRule>
inline float relu_gradient(float dy, float y) {
  if constexpr (kRule == ReluRule::Standard) return y > 0.0f ? dy : 0.0f;  // dy · [x > 0]
  else if constexpr (kRule == ReluRule::Guided) return (y > 0.0f && dy > 0.0f) ? dy : 0.0f;  // · [dy > 0]
  else return dy > 0.0f ? dy : 0.0f;  // deconvnet: dy · [dy > 0]
}

template <typename F>
void with_relu_rule(ReluRule rule, F&& f) {
  switch (rule) {
    case ReluRule::Standard: f(std::integral_constant<ReluRule, ReluRule::Standard>()); break;
    case ReluRule::Guided: f(std::integral_constant<ReluRule, ReluRule::Guided>()); break;
    case ReluRule::Deconvnet: f(std::integral_constant<ReluRule, ReluRule::Deconvnet>()); break;
  }
}

}  // namespace gcam::ops::detail
