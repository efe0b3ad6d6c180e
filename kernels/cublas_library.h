// cublas_library.h — cuBLAS, opened when the GPU first needs it rather than when a program starts
// (internal).
//
// Linked the ordinary way, libcublas and the libcublasLt it loads are mapped and relocated as every
// gcam program starts, GPU or not. Measured on the development machine: an empty program linked against
// libcublas peaks at 157 MB resident and takes 0.16 s to start, against 3 MB and under 0.01 s unlinked —
// more than explain's whole ResNet-50 Grad-CAM on the CPU (about 0.11 s, 141 MB). So the engine opens the
// library (dlopen) when it is first created, and gcam calls the seven cuBLAS functions it uses through the
// pointers below. cuDNN and the CUDA runtime cost 3 MB between them and stay linked.
#pragma once

#include <cublas_v2.h>

namespace gcam::cuda {

struct CublasFunctions {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasSetWorkspace_v2) set_workspace;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasSgemm_v2) sgemm;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched;
  decltype(&cublasGetStatusString) status_string;
};

// Opens libcublas.so.<major gcam was built with> on the first call (once; a failed call is retried by
// the next). A library or function that cannot be found is an InputError that names it.
const CublasFunctions& cublas_functions();

// Whether some call of cublas_functions() has opened the library (a test checks that nothing else does).
bool cublas_library_open();

}  // namespace gcam::cuda
