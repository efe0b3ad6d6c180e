// device_memory.cu — device allocation and the named host/device copies behind Tensor::to.
// Plain cudaMalloc for now; the caching allocator and the engine stream come with the CUDA backend.
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
  GCAM_CHECK(device_count() > 0, "cuda: no CUDA device is available (use the CPU)");
  void* ptr = nullptr;
  if (numel > 0) GCAM_CUDA_CHECK(cudaMalloc(&ptr, static_cast<size_t>(numel) * sizeof(float)));
  return static_cast<float*>(ptr);
}

void device_free(float* ptr) {
  if (ptr) cudaFree(ptr);  // never throws from a destructor path
}

void device_zero(float* ptr, int64_t numel) {
  if (numel > 0) GCAM_CUDA_CHECK(cudaMemset(ptr, 0, static_cast<size_t>(numel) * sizeof(float)));
}

void copy_host_to_device(float* device_dst, const float* host_src, int64_t numel) {
  if (numel > 0)
    GCAM_CUDA_CHECK(cudaMemcpy(device_dst, host_src, numel * sizeof(float), cudaMemcpyHostToDevice));
}

void copy_device_to_host(float* host_dst, const float* device_src, int64_t numel) {
  if (numel > 0)
    GCAM_CUDA_CHECK(cudaMemcpy(host_dst, device_src, numel * sizeof(float), cudaMemcpyDeviceToHost));
}

void copy_device_to_device(float* device_dst, const float* device_src, int64_t numel) {
  if (numel > 0)
    GCAM_CUDA_CHECK(
        cudaMemcpy(device_dst, device_src, numel * sizeof(float), cudaMemcpyDeviceToDevice));
}

}  // namespace gcam::cuda
