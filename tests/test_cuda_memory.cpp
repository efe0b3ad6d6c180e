// The CUDA seam: named host/device copies round-trip exactly, and the CPU-only reference loops refuse
// device tensors with a clear error. Skips cleanly without a GPU. cuBLAS is opened only when the engine
// first needs it (that test needs no GPU).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gcam/error.h"
#include "gcam/ops.h"
#ifdef GCAM_HAVE_CUDA
#include "../kernels/cublas_library.h"  // internal: the loader under test
#endif

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

// Whether a file whose name contains `name` is mapped into this process.
bool mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(name) != std::string::npos) return true;
  return false;
}

// A program that never uses the GPU never maps cuBLAS (157 MB resident and 0.16 s at start-up: see
// kernels/cublas_library.h); the loader opens it on demand and finds every function gcam calls. In a
// fresh process, since the other tests here may already have started the engine; no GPU is needed.
TEST(CublasLibrary, OpenedOnFirstUseOnly) {
#ifndef GCAM_HAVE_CUDA
  GTEST_SKIP() << "built without CUDA";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const bool before = mapped("libcublas") || cuda::cublas_library_open();
        const cuda::CublasFunctions& f = cuda::cublas_functions();
        const bool found = f.create && f.set_stream && f.set_workspace && f.set_math_mode && f.sgemm && f.status_string;
        const bool after = mapped("libcublas") && cuda::cublas_library_open();
        std::exit(!before && found && after && std::string(f.status_string(CUBLAS_STATUS_SUCCESS)).size() > 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
#endif
}

TEST(CudaMemory, ReferenceLoopsRefuseDeviceTensorsClearly) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor x = Tensor::zeros(Shape{1, 2, 4, 4}).to(Device::CUDA);
  Tensor w = Tensor::zeros(Shape{1, 2, 3, 3}).to(Device::CUDA);
  EXPECT_THROW(ops::reference::conv2d_forward(x, w, Tensor(), {}), InputError);
}

}  // namespace
}  // namespace gcam
