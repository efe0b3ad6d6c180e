// along_dim.h — a contiguous tensor seen as (outer, D, inner) around one dimension, for slice and concat
// (internal): outer = Π extents before dim, inner = Π extents after it, so that the range [start, start +
// length) of dim is, in every one of the outer blocks, one run of length·inner floats.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gcam/error.h"
#include "gcam/tensor.h"

namespace gcam::ops::detail {

struct AlongDim {
  int64_t outer = 1, extent = 1, inner = 1;
};

inline AlongDim along_dim(const Shape& shape, int dim, const char* op) {
  GCAM_CHECK(dim >= 0 && dim < shape.ndim(), op, ": dimension ", dim, " out of range for ", shape.str());
  AlongDim a;
  for (int d = 0; d < dim; ++d) a.outer *= shape[d];
  a.extent = shape[dim];
  for (int d = dim + 1; d < shape.ndim(); ++d) a.inner *= shape[d];
  return a;
}

// Copies, in each outer block, `length` rows of `inner` floats: from row `from_row` of a tensor whose
// dimension holds `from_extent` rows to row `to_row` of one that holds `to_extent`.
inline void copy_rows(const float* from, int64_t from_extent, int64_t from_row, float* to, int64_t to_extent,
                      int64_t to_row, int64_t outer, int64_t length, int64_t inner) {
  const size_t run = static_cast<size_t>(length * inner) * sizeof(float);
  if (run == 0) return;  // an empty tensor has no storage: no pointer to hand memcpy
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(to + (o * to_extent + to_row) * inner, from + (o * from_extent + from_row) * inner, run);
}

}  // namespace gcam::ops::detail
