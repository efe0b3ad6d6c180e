// gcam/device.h — where a tensor's storage lives. Moving between devices is always an explicit call
// (Tensor::to); no accessor ever copies behind the reader's back.
#pragma once

#include <cstdint>
#include <string>

namespace gcam {

enum class Device { CPU, CUDA };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

// True when gcam was built with the CUDA backend and a CUDA device is present at run time.
bool cuda_available();

// What the CUDA caching allocator has done since the process started. In the steady state of a
// repeated explanation device_allocations stays put: every tensor comes from the cache.
struct CudaMemoryStats {
  int64_t device_allocations = 0;  // cudaMalloc calls
  int64_t cache_hits = 0;          // requests served from the cache
  int64_t bytes_in_use = 0;        // held by live tensors
  int64_t bytes_cached = 0;        // held by the allocator, free for reuse
};
CudaMemoryStats cuda_memory_stats();
// Returns every cached block to the driver (cudaFree).
void cuda_release_cached_memory();
// Waits until the GPU has finished everything gcam queued (for timing; results copied to the host
// are already complete when the copy returns).
void cuda_synchronize();

// TF32 tensor-core math for CUDA convolutions and matrix products (10-bit mantissa products, FP32
// accumulation). Off by default: gcam computes in FP32 unless asked.
void set_cuda_tf32(bool on);
bool cuda_tf32();

}  // namespace gcam
