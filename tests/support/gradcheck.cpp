// gradcheck.cpp — see gradcheck.h.
#include "gradcheck.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace gcam::test {

namespace {

double weighted_sum(const Tensor& y, const Tensor& g) {
  double sum = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) sum += double(y.data()[i]) * g.data()[i];
  return sum;
}

}  // namespace

Tensor random_normal(const Shape& shape, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = normal(rng);
  return t;
}

Tensor random_away_from_zero(const Shape& shape, unsigned seed, float margin) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> magnitude(margin, margin + 1.0f);
  std::bernoulli_distribution sign(0.5);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = (sign(rng) ? 1.0f : -1.0f) * magnitude(rng);
  return t;
}

Tensor random_distinct(const Shape& shape, unsigned seed, float step) {
  std::vector<float> values(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = step * (static_cast<float>(i) - values.size() / 2.0f);
  std::shuffle(values.begin(), values.end(), std::mt19937(seed));
  return Tensor::from_vector(shape, values);
}

::testing::AssertionResult gradcheck(const Function& f, std::vector<Tensor> inputs,
                                     const GradcheckOptions& options) {
  // Analytic gradients from the tape.
  Tape tape;
  std::vector<Tensor> recorded = inputs;
  recorded[0] = tape.watch(inputs[0]);
  for (size_t k = 1; k < recorded.size(); ++k) recorded[k].set_requires_grad(true);  // parameters
  Tensor y = f(recorded);
  const Tensor g = random_normal(y.shape(), options.seed);
  const std::vector<Tensor> analytic = tape.grad(y, g, recorded);

  std::mt19937 rng(options.seed + 1);
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!analytic[k].defined())
      return ::testing::AssertionFailure() << "input " << k << ": the tape returned no gradient";
    Tensor& input = inputs[k];
    std::vector<int64_t> points(static_cast<size_t>(input.numel()));
    std::iota(points.begin(), points.end(), 0);
    if (static_cast<int>(points.size()) > options.max_points) {
      std::shuffle(points.begin(), points.end(), rng);
      points.resize(options.max_points);
    }
    for (int64_t j : points) {
      float* p = input.data() + j;  // perturbs the storage the recorded view shares: f sees it
      const float saved = *p;
      *p = static_cast<float>(saved + options.eps);
      const double plus = weighted_sum(f(inputs), g);
      *p = static_cast<float>(saved - options.eps);
      const double minus = weighted_sum(f(inputs), g);
      *p = saved;
      const double numeric = (plus - minus) / (2.0 * options.eps);
      const double exact = analytic[k].data()[j];
      const double bound = options.atol + options.rtol * std::max(std::fabs(exact), std::fabs(numeric));
      if (!(std::fabs(exact - numeric) <= bound))
        return ::testing::AssertionFailure()
               << "input " << k << " " << input.shape().str() << ", element " << j << ": tape " << exact
               << ", finite difference " << numeric << " (bound " << bound << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace gcam::test
