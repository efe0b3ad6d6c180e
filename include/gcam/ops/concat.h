// gcam/ops/concat.h — tensors joined along one dimension (torch.cat).
//
//   parts p_k (…, D_k, …), equal in every other extent → y (…, Σ D_k, …), p_0 first
//   backward  dp_k = dy sliced along dim at p_k's place
#pragma once

#include <vector>

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor concat(const std::vector<Tensor>& parts, int dim);  // CPU

}  // namespace gcam::ops
