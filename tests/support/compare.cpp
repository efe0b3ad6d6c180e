// compare.cpp — see compare.h.
#include "compare.h"

#include <cmath>
#include <sstream>

namespace gcam::test {

::testing::AssertionResult near_relative(const Tensor& actual, const Tensor& expected, double tolerance,
                                         double floor) {
  if (!actual.defined() || !expected.defined()) return ::testing::AssertionFailure() << "undefined tensor";
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << actual.shape().str() << " != expected "
                                         << expected.shape().str();
  const Tensor a = actual.to(Device::CPU), e = expected.to(Device::CPU);
  double scale = floor, worst = -1.0;
  int64_t worst_index = -1;
  for (int64_t i = 0; i < e.numel(); ++i) scale = std::max(scale, std::fabs(double(e.data()[i])));
  for (int64_t i = 0; i < e.numel(); ++i) {
    const double diff = std::fabs(double(a.data()[i]) - e.data()[i]);
    if (std::isnan(a.data()[i]) || diff > worst) {
      worst = std::isnan(a.data()[i]) ? INFINITY : diff;
      worst_index = i;
    }
  }
  if (worst_index < 0 || worst <= tolerance * scale)
    return ::testing::AssertionSuccess() << "max error " << worst / scale << " (relative)";
  return ::testing::AssertionFailure()
         << "max relative error " << worst / scale << " > " << tolerance << " at index " << worst_index
         << ": got " << a.data()[worst_index] << ", expected " << e.data()[worst_index]
         << " (scale " << scale << ", shape " << e.shape().str() << ")";
}

::testing::AssertionResult near_in_norm(const Tensor& actual, const Tensor& expected, double tolerance) {
  if (!actual.defined() || !expected.defined()) return ::testing::AssertionFailure() << "undefined tensor";
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << actual.shape().str() << " != expected " << expected.shape().str();
  const Tensor a = actual.to(Device::CPU), e = expected.to(Device::CPU);
  double diff = 0.0, norm = 0.0;
  int64_t differing = 0;
  for (int64_t i = 0; i < e.numel(); ++i) {
    const double d = double(a.data()[i]) - e.data()[i];
    diff += d * d;
    norm += double(e.data()[i]) * e.data()[i];
    differing += std::fabs(d) > 1e-3 * std::fabs(e.data()[i]) + 1e-12;
  }
  const double relative = std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
  if (std::isfinite(relative) && relative <= tolerance)
    return ::testing::AssertionSuccess() << "relative L2 error " << relative;
  return ::testing::AssertionFailure() << "relative L2 error " << relative << " > " << tolerance << " (" << differing
                                       << " of " << e.numel() << " elements differ by more than 1e-3 relative)";
}

::testing::AssertionResult equal_exactly(const Tensor& actual, const std::vector<float>& expected) {
  if (actual.numel() != static_cast<int64_t>(expected.size()))
    return ::testing::AssertionFailure() << actual.numel() << " elements, expected " << expected.size();
  const Tensor a = actual.to(Device::CPU);
  for (size_t i = 0; i < expected.size(); ++i)
    if (!(a.data()[i] == expected[i]))
      return ::testing::AssertionFailure() << "index " << i << ": got " << a.data()[i] << ", expected "
                                           << expected[i];
  return ::testing::AssertionSuccess();
}

}  // namespace gcam::test
