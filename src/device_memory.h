// device_memory.h — the seam between tensors and the CUDA backend (internal header).
//
// With GCAM_HAVE_CUDA these are implemented in kernels/device_memory.cu; without it, in
// src/device_memory_stub.cpp, where every call but device_count() throws "built without CUDA".
// Every host<->device transfer in gcam goes through one of the named copies below.
#pragma once

#include <cstdint>

namespace gcam::cuda {

int device_count();  // 0 when there is no usable device (or no CUDA in this build)

float* device_alloc(int64_t numel);
void device_free(float* ptr);
void device_zero(float* ptr, int64_t numel);

void copy_host_to_device(float* device_dst, const float* host_src, int64_t numel);
void copy_device_to_host(float* host_dst, const float* device_src, int64_t numel);
void copy_device_to_device(float* device_dst, const float* device_src, int64_t numel);

// The same for raw bytes (index arrays and the like; see cuda/device_array.h).
void* device_alloc_bytes(int64_t bytes);
void device_free_bytes(void* ptr);
void copy_bytes_host_to_device(void* device_dst, const void* host_src, int64_t bytes);
void copy_bytes_device_to_host(void* host_dst, const void* device_src, int64_t bytes);

}  // namespace gcam::cuda
