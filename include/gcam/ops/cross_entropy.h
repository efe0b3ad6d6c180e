// gcam/ops/cross_entropy.h — the classification loss, averaged over the batch.
//
//   logits (N, C), labels t_n ∈ [0, C)
//   L = (1/N) · Σ_n −log softmax(logits)[n, t_n]            (a (1)-shaped tensor)
//   dL/dlogits[n, i] = (softmax(logits)[n, i] − [i = t_n]) / N
#pragma once

#include <cstdint>
#include <vector>

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels);

}  // namespace gcam::ops
