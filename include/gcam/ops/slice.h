// gcam/ops/slice.h — a contiguous range along one dimension, copied out (Tensor.narrow).
//
//   x (…, D, …) → y (…, length, …):  y[…, j, …] = x[…, start + j, …],  0 ≤ start, start + length ≤ D
//   backward  dx = 0 everywhere but dx[…, start + j, …] = dy[…, j, …]
#pragma once

#include <cstdint>

#include "gcam/tensor.h"

namespace gcam::ops {

Tensor slice(const Tensor& x, int dim, int64_t start, int64_t length);  // CPU

}  // namespace gcam::ops
