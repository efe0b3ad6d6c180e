// gradcheck.h — the tape's gradients against central finite differences.
//
// For f: inputs → y and a random upstream gradient g (not all ones: a sum would hide transposed or
// misplaced gradients), the scalar L = Σ g·f(inputs) has  ∂L/∂input[j] ≈ (L(+ε) − L(−ε)) / 2ε.
// The analytic side comes from Tape::grad with every input as a target. L is summed in double so that
// the difference quotient is not drowned by float32 rounding.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "gcam/autograd.h"
#include "gcam/tensor.h"

namespace gcam::test {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-2;        // the step; callers keep inputs at least eps away from kinks
  double rtol = 1e-2;       // |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|)
  double atol = 2e-3;
  int max_points = 64;      // elements checked per input (all of them for small inputs)
  unsigned seed = 99;
};

::testing::AssertionResult gradcheck(const Function& f, std::vector<Tensor> inputs,
                                     const GradcheckOptions& options = {});

// Values spread as N(0, scale²), seeded.
Tensor random_normal(const Shape& shape, unsigned seed, float scale = 1.0f);
// Values in ±[margin, margin + spread): never within `margin` of zero (away from ReLU's kink).
Tensor random_away_from_zero(const Shape& shape, unsigned seed, float margin = 0.1f);
// A random permutation of {0, step, 2·step, …} − offset: all distinct (max pooling has no ties).
Tensor random_distinct(const Shape& shape, unsigned seed, float step = 0.05f);

}  // namespace gcam::test
