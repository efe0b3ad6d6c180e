// compare.h — tensor comparisons that fail loudly with the index and both values.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "gcam/tensor.h"

namespace gcam::test {

// Passes when max_i |actual_i − expected_i| ≤ tolerance · max(max_i |expected_i|, floor).
// The error is relative to the tensor's scale, not per element (per-element relative error is
// meaningless next to values that happen to be near zero).
::testing::AssertionResult near_relative(const Tensor& actual, const Tensor& expected, double tolerance,
                                         double floor = 1e-6);
// Passes when ‖actual − expected‖₂ ≤ tolerance · ‖expected‖₂ (the error of the whole tensor, for
// results where a few elements may legitimately differ, e.g. where a sign test sees a rounding-sized
// gradient on either side of zero).
::testing::AssertionResult near_in_norm(const Tensor& actual, const Tensor& expected, double tolerance);
// Passes when every element matches exactly.
::testing::AssertionResult equal_exactly(const Tensor& actual, const std::vector<float>& expected);

}  // namespace gcam::test
