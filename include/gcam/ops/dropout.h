// gcam/ops/dropout.h — inverted dropout.
//
//   inference  y = x                                  (what explaining a model uses)
//   training   m ~ Bernoulli(1 − p) per element,  y = x · m / (1 − p),   dx = dy · m / (1 − p)
// The mask comes from a caller-owned, seeded generator, so a training run is reproducible.
#pragma once

#include <cstdint>
#include <random>

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor dropout(const Tensor& x, float p, bool training, std::mt19937_64* rng);

}  // namespace gcam::ops
