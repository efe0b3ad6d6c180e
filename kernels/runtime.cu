// runtime.cu — the engine's stream and library handles, the caching allocator, the switches
// (what each does: src/cuda/runtime.h).
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "../src/device_memory.h"
#include "cuda_check.h"
#include "gcam/device.h"

namespace gcam::cuda {

namespace {

struct Engine {
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;

  Engine() {
    GCAM_CHECK(device_count() > 0, "cuda: no CUDA device is available (use the CPU)");
    GCAM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    GCAM_CUDA_CHECK(cudnnCreate(&cudnn));
    GCAM_CUDA_CHECK(cudnnSetStream(cudnn, stream));
    GCAM_CUDA_CHECK(cublasCreate(&cublas));
    GCAM_CUDA_CHECK(cublasSetStream(cublas, stream));
    GCAM_CUDA_CHECK(cublasSetMathMode(cublas, CUBLAS_PEDANTIC_MATH));  // FP32 until TF32 is asked for
  }
};

// Created on first use and never destroyed: at process exit the driver reclaims everything, and a
// destructor running after the CUDA runtime has shut down would fail.
Engine& engine() {
  static Engine* e = new Engine();
  return *e;
}

bool tf32_enabled = false;

constexpr std::size_t kSmallStep = 512;
constexpr std::size_t kLargeStep = std::size_t{2} << 20;
constexpr std::size_t kSmallLimit = std::size_t{1} << 20;

std::size_t rounded(std::size_t bytes) {
  const std::size_t step = bytes < kSmallLimit ? kSmallStep : kLargeStep;
  return (std::max<std::size_t>(bytes, 1) + step - 1) / step * step;
}

class CachingAllocator {
 public:
  void* allocate(std::size_t request) {
    const std::size_t bytes = rounded(request);
    std::lock_guard<std::mutex> lock(mutex_);
    // The smallest cached block that fits, if it is not more than twice the request.
    auto it = free_.lower_bound(bytes);
    if (it != free_.end() && it->first <= 2 * bytes) {
      void* ptr = it->second;
      const std::size_t size = it->first;
      free_.erase(it);
      live_[ptr] = size;
      stats_.bytes_cached -= size;
      stats_.bytes_in_use += size;
      ++stats_.cache_hits;
      return ptr;
    }
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, bytes);
    if (status == cudaErrorMemoryAllocation) {  // give the cache back and try once more
      cudaGetLastError();
      release_locked();
      status = cudaMalloc(&ptr, bytes);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      throw InputError(gcam::detail::concat("cuda: out of device memory allocating ", bytes >> 20, " MiB (",
                                            stats_.bytes_in_use >> 20, " MiB in use by tensors)"));
    }
    GCAM_CUDA_CHECK(status);
    live_[ptr] = bytes;
    stats_.bytes_in_use += bytes;
    ++stats_.device_allocations;
    return ptr;
  }

  void free(void* ptr) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return;  // not ours: never happens, and never worth a crash in a destructor
    free_.emplace(it->second, ptr);
    stats_.bytes_in_use -= it->second;
    stats_.bytes_cached += it->second;
    live_.erase(it);
  }

  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_locked();
  }

  CudaMemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  void release_locked() {
    if (free_.empty()) return;
    cudaStreamSynchronize(engine().stream);  // no queued work may still use a block we hand back
    for (const auto& [size, ptr] : free_) cudaFree(ptr);
    free_.clear();
    stats_.bytes_cached = 0;
  }

  std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;     // size → block
  std::unordered_map<void*, std::size_t> live_;  // block → size
  CudaMemoryStats stats_;
};

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();  // never destroyed, like the engine
  return *a;
}

}  // namespace

cudaStream_t stream() { return engine().stream; }
cudnnHandle_t cudnn() { return engine().cudnn; }
cublasHandle_t cublas() { return engine().cublas; }

bool debug_sync() {
  static const bool on = [] {
    const char* v = std::getenv("GCAM_CUDA_SYNC");
    return v && std::strcmp(v, "0") != 0 && *v != '\0';
  }();
  return on;
}

void synchronize() { GCAM_CUDA_CHECK(cudaStreamSynchronize(stream())); }

void* allocate_bytes(std::size_t bytes) {
  GCAM_CHECK(device_count() > 0, "cuda: no CUDA device is available (use the CPU)");
  engine();  // the stream exists before the first block does
  return allocator().allocate(bytes);
}

void free_bytes(void* ptr) { allocator().free(ptr); }

}  // namespace gcam::cuda

namespace gcam {

CudaMemoryStats cuda_memory_stats() { return cuda::allocator().stats(); }
void cuda_release_cached_memory() { cuda::allocator().release(); }
void cuda_synchronize() { cuda::synchronize(); }

void set_cuda_tf32(bool on) {
  cuda::tf32_enabled = on;
  if (cuda_available())
    GCAM_CUDA_CHECK(cublasSetMathMode(cuda::cublas(), on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
}
bool cuda_tf32() { return cuda::tf32_enabled; }

}  // namespace gcam
