// gcam/ops/cross_entropy.h — the classification loss, averaged over the batch.
//
//   logits (N, C), labels t_n ∈ [0, C)
//   L = (1/N) · Σ_n −log softmax(logits)[n, t_n]            (a (1)-shaped tensor)
//   dL/dlogits[n, i] = (softmax(logits)[n, i] − [i = t_n]) / N
//
// A sequence loss (every word of a batch of padded captions as a row) ignores the padding: rows whose
// label is ignore_index count for nothing, N above becomes the number of the others (PyTorch's
// ignore_index), and their gradient is 0. Every row ignored: L = 0.
#pragma once

#include <cstdint>
#include <vector>

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels);
// With rows to ignore (CPU).
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels, int64_t ignore_index);

}  // namespace gcam::ops
