// cam_stub.cpp — cuda/cam.h in a build without CUDA: no tensor can be on the device there.
#include "cam.h"

#include "gcam/error.h"

namespace gcam::cuda {

namespace {
[[noreturn]] void no_cuda() {
  throw InputError("cuda: gcam was built without CUDA (configure with nvcc and cuDNN present, GCAM_CUDA=ON)");
}
}  // namespace

GradcamMaps gradcam_maps(const Tensor&, const Tensor&, bool) { no_cuda(); }
Upsampled upsample_product(const Tensor&, int64_t, int64_t, const Tensor&) { no_cuda(); }
Rendered render(const Tensor&, const DeviceArray<uint8_t>&, cam::Colormap, float) { no_cuda(); }

}  // namespace gcam::cuda
