// gcam/ops/embedding.h — a table of word vectors, looked up by word index (nn.Embedding).
//
//   weight (V, E),  ids: n integers in [0, V),  y (n, E)
//   forward   y[t] = weight[ids[t]]
//   backward  dweight[v] = Σ_{t : ids[t] = v} dy[t]   (a scatter-add; none into the row padding_idx,
//             as PyTorch leaves the padding word's vector untrained). The ids are integers, not a tensor:
//             they have no gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "gcam/tensor.h"

namespace gcam::ops {

// InputError naming the id when one is outside [0, V). padding_idx < 0: no padding row.
Tensor embedding(const Tensor& weight, const std::vector<int64_t>& ids, int64_t padding_idx = -1);  // CPU

}  // namespace gcam::ops
