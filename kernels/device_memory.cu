// device_memory.cu — tensor storage on the device and the named host/device copies behind Tensor::to.
// Storage comes from the caching allocator; every copy is queued on the engine's stream, and a copy to
// the host waits for it (the caller reads the values next).
#include "../src/device_memory.h"
#include "cuda_check.h"

namespace gcam::cuda {

int device_count() {
  int count = 0;
  // No driver or no device is not an error here: it means "no CUDA", and callers skip.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error
    return 0;
  }
  return count;
}

float* device_alloc(int64_t numel) {
  if (numel <= 0) return nullptr;
  return static_cast<float*>(allocate_bytes(static_cast<size_t>(numel) * sizeof(float)));
}

void device_free(float* ptr) { free_bytes(ptr); }  // never throws: a destructor path

void device_zero(float* ptr, int64_t numel) {
  if (numel > 0) GCAM_CUDA_CHECK(cudaMemsetAsync(ptr, 0, static_cast<size_t>(numel) * sizeof(float), stream()));
}

void copy_host_to_device(float* device_dst, const float* host_src, int64_t numel) {
  if (numel <= 0) return;
  GCAM_CUDA_CHECK(cudaMemcpyAsync(device_dst, host_src, numel * sizeof(float), cudaMemcpyHostToDevice, stream()));
  synchronize();  // the host buffer may be pageable and freed right after
}

void copy_device_to_host(float* host_dst, const float* device_src, int64_t numel) {
  if (numel <= 0) return;
  GCAM_CUDA_CHECK(cudaMemcpyAsync(host_dst, device_src, numel * sizeof(float), cudaMemcpyDeviceToHost, stream()));
  synchronize();
}

void copy_device_to_device(float* device_dst, const float* device_src, int64_t numel) {
  if (numel > 0)
    GCAM_CUDA_CHECK(
        cudaMemcpyAsync(device_dst, device_src, numel * sizeof(float), cudaMemcpyDeviceToDevice, stream()));
}

void* device_alloc_bytes(int64_t bytes) { return bytes > 0 ? allocate_bytes(static_cast<size_t>(bytes)) : nullptr; }
void device_free_bytes(void* ptr) { free_bytes(ptr); }

void copy_bytes_host_to_device(void* device_dst, const void* host_src, int64_t bytes) {
  if (bytes <= 0) return;
  GCAM_CUDA_CHECK(cudaMemcpyAsync(device_dst, host_src, bytes, cudaMemcpyHostToDevice, stream()));
  synchronize();
}

void copy_bytes_device_to_host(void* host_dst, const void* device_src, int64_t bytes) {
  if (bytes <= 0) return;
  GCAM_CUDA_CHECK(cudaMemcpyAsync(host_dst, device_src, bytes, cudaMemcpyDeviceToHost, stream()));
  synchronize();
}

}  // namespace gcam::cuda
