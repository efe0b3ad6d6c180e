// cublas_library.cu — opening cuBLAS on first use (why: cublas_library.h).
#include "cublas_library.h"

#include <dlfcn.h>

#include <atomic>
#include <string>

#include "gcam/error.h"

namespace gcam::cuda {

namespace {

std::atomic<bool> opened{false};

// The major version gcam was compiled against (its headers' CUBLAS_VER_MAJOR): first in the directory
// where CMake found cuBLAS (GCAM_CUBLAS_DIR), then wherever the dynamic loader looks (LD_LIBRARY_PATH,
// the executable's run path, its cache).
void* open_library() {
  const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
#ifdef GCAM_CUBLAS_DIR
  if (void* library = dlopen((std::string(GCAM_CUBLAS_DIR) + "/" + name).c_str(), RTLD_NOW | RTLD_LOCAL)) return library;
#endif
  if (void* library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return library;
  const char* why = dlerror();
  throw InputError("cuda: cannot open cuBLAS (" + name + "): " + (why ? why : "not found"));
}

template <typename Function>
void resolve(void* library, const char* symbol, Function& function) {
  function = reinterpret_cast<Function>(dlsym(library, symbol));
  if (!function) throw InputError(std::string("cuda: cuBLAS has no function ") + symbol);
}

}  // namespace

const CublasFunctions& cublas_functions() {
  static const CublasFunctions functions = [] {
    void* library = open_library();
    CublasFunctions f{};
    resolve(library, "cublasCreate_v2", f.create);
    resolve(library, "cublasSetStream_v2", f.set_stream);
    resolve(library, "cublasSetWorkspace_v2", f.set_workspace);
    resolve(library, "cublasSetMathMode", f.set_math_mode);
    resolve(library, "cublasSgemm_v2", f.sgemm);
    resolve(library, "cublasSgemmStridedBatched", f.sgemm_strided_batched);
    resolve(library, "cublasGetStatusString", f.status_string);
    opened = true;
    return f;
  }();
  return functions;
}

bool cublas_library_open() { return opened; }

}  // namespace gcam::cuda
