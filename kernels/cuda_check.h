// cuda_check.h — the one checked-call macro for CUDA runtime calls (cuDNN and cuBLAS join it with the
// CUDA backend). A failure throws InternalError with the statement text, the error string and file:line,
// so a program prints one clean line. GCAM_CHECK_LAUNCH() goes after every kernel launch.
#pragma once

#include <cuda_runtime.h>

#include "gcam/error.h"

#define GCAM_CUDA_CHECK(stmt)                                                                 \
  do {                                                                                        \
    cudaError_t gcam_status_ = (stmt);                                                        \
    if (gcam_status_ != cudaSuccess)                                                          \
      throw ::gcam::InternalError(::gcam::detail::concat("cuda: ", #stmt, " failed: ",       \
                                                         cudaGetErrorString(gcam_status_),    \
                                                         " at ", __FILE__, ":", __LINE__));   \
  } while (0)

#define GCAM_CHECK_LAUNCH() GCAM_CUDA_CHECK(cudaGetLastError())
