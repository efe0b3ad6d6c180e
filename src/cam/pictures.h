// pictures.h — moving a batch's pictures to and from the GPU (internal to src/cam/).
#pragma once

#include <cstdint>
#include <vector>

#include "../cuda/device_array.h"
#include "gcam/explain.h"

namespace gcam::cam {

// InputError unless pictures.images holds N pictures of H×W RGB.
void check_pictures(const Pictures& pictures, int64_t N, int64_t H, int64_t W);
// Those pictures as one batch of bytes (N, H, W, 3), on the host or on the device.
std::vector<uint8_t> picture_bytes(const Pictures& pictures, int64_t N, int64_t H, int64_t W);
cuda::DeviceArray<uint8_t> upload_pictures(const Pictures& pictures, int64_t N, int64_t H, int64_t W);
// Bytes (N, H, W, 3) from the device, one picture per image.
std::vector<image::Image> split_pictures(const std::vector<uint8_t>& bytes, int64_t N, int64_t H, int64_t W);

}  // namespace gcam::cam
