// scratch.cpp — see scratch.h.
#include "scratch.h"

#include <cstdlib>
#include <memory>
#include <new>

namespace gcam::cpu {

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

struct Buffer {
  std::unique_ptr<float, FreeDeleter> data;
  int64_t capacity = 0;
};

}  // namespace

float* scratch(ScratchSlot slot, int64_t numel) {
  thread_local Buffer buffers[kScratchSlots];
  Buffer& b = buffers[static_cast<int>(slot)];
  if (numel > b.capacity) {
    const size_t bytes = (static_cast<size_t>(numel) * sizeof(float) + 63) / 64 * 64;
    b.data.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    b.capacity = b.data ? numel : 0;
    if (!b.data) throw std::bad_alloc();
  }
  return b.data.get();
}

}  // namespace gcam::cpu
