// pinned_buffer.cu — page-locked host memory and the asynchronous upload (see src/cuda/pinned_buffer.h).
#include <utility>

#include "../src/cuda/pinned_buffer.h"
#include "cuda_check.h"

namespace gcam::cuda {

PinnedBuffer::PinnedBuffer(int64_t floats) : size_(floats) {
  GCAM_CHECK(floats > 0, "pinned buffer: size must be positive, got ", floats);
  GCAM_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&data_), static_cast<size_t>(floats) * sizeof(float),
                                cudaHostAllocDefault));
  cudaEvent_t event = nullptr;
  const cudaError_t status = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
  if (status != cudaSuccess) {
    cudaFreeHost(data_);
    GCAM_CUDA_CHECK(status);
  }
  read_ = event;
}

PinnedBuffer::~PinnedBuffer() { release(); }

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      read_(std::exchange(other.read_, nullptr)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    read_ = std::exchange(other.read_, nullptr);
  }
  return *this;
}

void PinnedBuffer::release() noexcept {
  if (read_) {
    cudaEventSynchronize(static_cast<cudaEvent_t>(read_));  // a queued copy may still read the memory
    cudaEventDestroy(static_cast<cudaEvent_t>(read_));
  }
  if (data_) cudaFreeHost(data_);
  data_ = nullptr, read_ = nullptr, size_ = 0;
}

Tensor PinnedBuffer::upload(const Shape& shape) {
  GCAM_CHECK(shape.numel() <= size_, "pinned buffer: ", shape.str(), " does not fit in ", size_, " floats");
  Tensor t = Tensor::empty(shape, Device::CUDA);
  if (shape.numel() == 0) return t;
  GCAM_CUDA_CHECK(cudaMemcpyAsync(t.data(), data_, static_cast<size_t>(shape.numel()) * sizeof(float),
                                  cudaMemcpyHostToDevice, stream()));
  GCAM_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(read_), stream()));
  return t;
}

void PinnedBuffer::wait_until_read() {
  if (read_) GCAM_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(read_)));
}

}  // namespace gcam::cuda
