// op_support.h — small checks every op shares (internal).
#pragma once

#include <initializer_list>

#include "gcam/error.h"
#include "gcam/tensor.h"

namespace gcam::ops::detail {

// For code that has only a CPU version (the reference loops): a CUDA tensor gets a clear error
// instead of a host loop over a device pointer.
inline void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    GCAM_CHECK(!t->defined() || t->device() == Device::CPU, op,
               ": this is a CPU-only function; move the tensors to the CPU with to(Device::CPU)");
}

// The device an op runs on: that of its (defined) tensors, which must all agree. True for CUDA, where
// the op calls its kernels in src/cuda/ops.h; false for the CPU loops.
inline bool on_cuda(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    GCAM_CHECK(t->device() == first->device(), op, ": tensors on different devices (", device_name(first->device()),
               " and ", device_name(t->device()), "); move them with to()");
  }
  return first && first->device() == Device::CUDA;
}

}  // namespace gcam::ops::detail
