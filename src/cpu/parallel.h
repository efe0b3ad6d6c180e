// parallel.h — a parallel loop that carries exceptions out (internal).
//
// An exception may not leave an OpenMP region (the program would terminate), and a scratch buffer can
// fail to allocate inside one. parallel_for runs body(i) for i in [0, n) on the OpenMP threads, keeps
// the first exception thrown, and rethrows it after the loop, so a caller sees an ordinary error.
#pragma once

#include <cstdint>
#include <exception>

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

}  // namespace gcam::cpu
