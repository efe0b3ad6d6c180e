// device_memory_stub.cpp — the CUDA seam in a CPU-only build: no device, and a clear error if asked.
#include "device_memory.h"

#include "cuda/pinned_buffer.h"

#include "gcam/device.h"
#include "gcam/error.h"

namespace gcam::cuda {

namespace {
[[noreturn]] void no_cuda() {
  throw InputError("cuda: gcam was built without CUDA (configure with nvcc and cuDNN present, GCAM_CUDA=ON)");
}
}  // namespace
[[noreturn]] void no_cuda_public() { no_cuda(); }

int device_count() { return 0; }
float* device_alloc(int64_t) { no_cuda(); }
void device_free(float*) {}
void device_zero(float*, int64_t) { no_cuda(); }
void copy_host_to_device(float*, const float*, int64_t) { no_cuda(); }
void copy_device_to_host(float*, const float*, int64_t) { no_cuda(); }
void copy_device_to_device(float*, const float*, int64_t) { no_cuda(); }
void* device_alloc_bytes(int64_t) { no_cuda(); }
void device_free_bytes(void*) {}
void copy_bytes_host_to_device(void*, const void*, int64_t) { no_cuda(); }
void copy_bytes_device_to_host(void*, const void*, int64_t) { no_cuda(); }

PinnedBuffer::PinnedBuffer(int64_t) { no_cuda(); }
PinnedBuffer::~PinnedBuffer() = default;
PinnedBuffer::PinnedBuffer(PinnedBuffer&&) noexcept {}
PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&&) noexcept { return *this; }
void PinnedBuffer::release() noexcept {}
Tensor PinnedBuffer::upload(const Shape&) { no_cuda(); }
void PinnedBuffer::wait_until_read() {}

}  // namespace gcam::cuda

namespace gcam {

CudaMemoryStats cuda_memory_stats() { return {}; }
void cuda_release_cached_memory() {}
void cuda_synchronize() {}
void set_cuda_tf32(bool on) {
  if (on) cuda::no_cuda_public();
}
bool cuda_tf32() { return false; }

}  // namespace gcam::cuda
