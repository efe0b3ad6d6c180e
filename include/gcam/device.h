// gcam/device.h — where a tensor's storage lives. Moving between devices is always an explicit call
// (Tensor::to); no accessor ever copies behind the reader's back.
#pragma once

#include <string>

namespace gcam {

enum class Device { CPU, CUDA };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

// True when gcam was built with the CUDA backend and a CUDA device is present at run time.
bool cuda_available();

}  // namespace gcam
