// parallel.h — a parallel loop that carries exceptions out (internal).
//
// An exception may not leave an OpenMP region (the program would terminate), and a scratch buffer can
// fail to allocate inside one. parallel_for runs body(i) for i in [0, n) on the OpenMP threads, keeps
// the first exception thrown, and rethrows it after the loop, so a caller sees an ordinary error.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <vector>

namespace gcam::cpu {

template <typename Body>
void parallel_for(int64_t n, Body body) {
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic)
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical(gcam_parallel_for_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Sums over the items i < n into out (size floats, added to): the items are cut into `runs` runs of
// consecutive items, the runs share the threads, each run adds its items into its own zeroed copy
// (add(i, copy)), and the copies are then added into out in run order. Which thread takes which run
// does not matter, so the sum has the same bits on every call with the same `runs` — how the weight
// gradients of a training batch stay reproducible while their items run side by side.
template <typename Add>
void sum_in_runs(int64_t n, int64_t runs, int64_t size, float* out, Add add) {
  const int64_t per_run = (n + runs - 1) / runs;
  std::vector<float> copies(static_cast<size_t>(runs * size), 0.0f);
  parallel_for(runs, [&](int64_t r) {
    for (int64_t i = r * per_run; i < std::min(n, (r + 1) * per_run); ++i) add(i, copies.data() + r * size);
  });
  for (int64_t r = 0; r < runs; ++r)
    for (int64_t j = 0; j < size; ++j) out[j] += copies[r * size + j];
}

}  // namespace gcam::cpu
