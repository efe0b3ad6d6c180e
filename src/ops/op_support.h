// op_support.h — small checks every op shares (internal).
#pragma once

#include <initializer_list>

#include "gcam/error.h"
#include "gcam/tensor.h"

namespace gcam::ops::detail {

// The CPU backend is the only one with kernels for now; a CUDA tensor gets a clear error instead of a
// host loop over a device pointer.
inline void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors)
    GCAM_CHECK(!t->defined() || t->device() == Device::CPU, op,
               ": no CUDA implementation yet; move the tensors to the CPU with to(Device::CPU)");
}

}  // namespace gcam::ops::detail
