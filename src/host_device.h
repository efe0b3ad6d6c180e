// host_device.h — GCAM_HOST_DEVICE marks a function that nvcc compiles for both the GPU and the host
// (and the host compiler alone for the host), so that tests can run a kernel's arithmetic on the CPU.
#pragma once

#ifdef __CUDACC__
#define GCAM_HOST_DEVICE __host__ __device__
#else
#define GCAM_HOST_DEVICE
#endif
