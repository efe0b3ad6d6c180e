// The CUDA seam: named host/device copies round-trip exactly, and the CPU-only reference loops refuse
// device tensors with a clear error. Skips cleanly without a GPU.
#include <gtest/gtest.h>

#include "gcam/error.h"
#include "gcam/ops.h"

namespace gcam {
namespace {

TEST(CudaMemory, HostDeviceRoundTrip) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  std::vector<float> values(1000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5f * static_cast<float>(i) - 7.0f;
  Tensor host = Tensor::from_vector(Shape{10, 100}, values);
  Tensor device = host.to(Device::CUDA);
  EXPECT_EQ(device.device(), Device::CUDA);
  Tensor device_copy = device.clone();
  EXPECT_EQ(device_copy.to(Device::CPU).to_vector(), values);
  EXPECT_EQ(Tensor::zeros(Shape{3}, Device::CUDA).to(Device::CPU).to_vector(), (std::vector<float>{0, 0, 0}));
  EXPECT_THROW(device.to_vector(), InputError);
}

TEST(CudaMemory, ReferenceLoopsRefuseDeviceTensorsClearly) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor x = Tensor::zeros(Shape{1, 2, 4, 4}).to(Device::CUDA);
  Tensor w = Tensor::zeros(Shape{1, 2, 3, 3}).to(Device::CUDA);
  EXPECT_THROW(ops::reference::conv2d_forward(x, w, Tensor(), {}), InputError);
}

}  // namespace
}  // namespace gcam
