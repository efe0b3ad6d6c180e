// cuda_check.h — the one checked-call macro for CUDA runtime, cuDNN and cuBLAS calls, and the check
// after every kernel launch.
//
//   GCAM_CUDA_CHECK(cudaMemcpyAsync(...));      // cudaError_t
//   GCAM_CUDA_CHECK(cudnnConvolutionForward(...));  // cudnnStatus_t
//   GCAM_CUDA_CHECK(cublasSgemm(...));          // cublasStatus_t
//   kernel<<<grid, block, 0, cuda::stream()>>>(...);  GCAM_CHECK_LAUNCH();
//
// A failure throws InternalError with the statement, the library's own message and file:line, so a
// program prints one clean line. With GCAM_CUDA_SYNC=1 in the environment every launch is followed by
// a synchronisation, so that a kernel that faults is named at its own launch instead of at some later
// call (slow: a debugging switch; skipped while a graph is being captured, where it is not allowed).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "../src/cuda/runtime.h"
#include "cublas_library.h"
#include "gcam/error.h"

namespace gcam::cuda::detail {

inline bool failed(cudaError_t s) { return s != cudaSuccess; }
inline const char* message(cudaError_t s) { return cudaGetErrorString(s); }
inline bool failed(cudnnStatus_t s) { return s != CUDNN_STATUS_SUCCESS; }
inline const char* message(cudnnStatus_t s) { return cudnnGetErrorString(s); }
inline bool failed(cublasStatus_t s) { return s != CUBLAS_STATUS_SUCCESS; }
inline const char* message(cublasStatus_t s) { return cublas_functions().status_string(s); }  // loaded: a cuBLAS call ran

}  // namespace gcam::cuda::detail

#define GCAM_CUDA_CHECK(stmt)                                                                             \
  do {                                                                                                    \
    const auto gcam_status_ = (stmt);                                                                     \
    if (::gcam::cuda::detail::failed(gcam_status_))                                                       \
      throw ::gcam::InternalError(::gcam::detail::concat("cuda: ", #stmt, " failed: ",                  \
                                                         ::gcam::cuda::detail::message(gcam_status_),   \
                                                         " at ", __FILE__, ":", __LINE__));              \
  } while (0)

#define GCAM_CHECK_LAUNCH()                                      \
  do {                                                           \
    GCAM_CUDA_CHECK(cudaGetLastError());                         \
    if (::gcam::cuda::debug_sync()) ::gcam::cuda::debug_wait();  \
  } while (0)
