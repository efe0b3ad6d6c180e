// pinned_buffer.h — a page-locked host buffer for uploads that overlap the GPU's work (internal).
//
// The GPU's copy engine reads page-locked ("pinned") memory directly, so a copy from it is queued on
// the engine stream and the host goes on at once; from ordinary (pageable) memory the driver first
// copies through a staging area of its own and the call waits. `explain --device cuda` fills one of
// two such buffers with batch k + 1 on its decode thread while batch k is copied and explained.
//
//   PinnedBuffer b(n);                  n floats of page-locked memory
//   fill b.data() …
//   Tensor x = b.upload(shape);         device tensor; the copy is queued, not finished
//   b.wait_until_read();                before the host writes b.data() again
// Move-only; the destructor waits for the last upload before the memory is freed.
#pragma once

#include <cstdint>

#include "gcam/tensor.h"

namespace gcam::cuda {

class PinnedBuffer {
 public:
  explicit PinnedBuffer(int64_t floats);
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;

  float* data() { return data_; }
  int64_t size() const { return size_; }

  // A new device tensor of `shape` (numel ≤ size()) from the buffer's first floats, copied on the engine
  // stream (ordered before every kernel queued after it); returns without waiting for the copy.
  Tensor upload(const Shape& shape);
  // Blocks until the last upload has read the buffer; returns at once if there was none.
  void wait_until_read();

 private:
  void release() noexcept;
  float* data_ = nullptr;
  int64_t size_ = 0;
  void* read_ = nullptr;  // cudaEvent_t recorded after the last upload
};

}  // namespace gcam::cuda
