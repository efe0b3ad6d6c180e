// cam_stub.cpp — cuda/cam.h and the graph of cuda/runtime.h in a build without CUDA: no tensor can be on
// the device there.
#include "cam.h"
#include "runtime.h"

#include "gcam/error.h"

namespace gcam::cuda {

namespace {
[[noreturn]] void no_cuda() {
  throw InputError("cuda: gcam was built without CUDA (configure with nvcc and cuDNN present, GCAM_CUDA=ON)");
}
}  // namespace

GradcamMaps gradcam_maps(const Tensor&, const Tensor&, bool, bool, ReductionOptions) { no_cuda(); }
Reduction gradcam_reduction_for(const Shape&, ReductionOptions) { no_cuda(); }
int64_t resident_clusters(const Shape&, ReductionOptions) { no_cuda(); }
Tensor one_hot_seed(const Tensor&, const DeviceArray<int32_t>&, DeviceArray<int32_t>&) { no_cuda(); }

void synchronize() {}
int compute_capability() { return 0; }
bool clusters_supported() { return false; }
Graph::~Graph() {}
void Graph::begin_capture() { no_cuda(); }
void Graph::end_capture() { no_cuda(); }
void Graph::abandon_capture() noexcept {}
void Graph::replay() { no_cuda(); }
float Graph::replay_ms() { no_cuda(); }
Drawn draw(const Tensor&, const Drawing&) { no_cuda(); }
DeviceArray<uint8_t> gradient_pictures(const Tensor&) { no_cuda(); }
DeviceArray<int32_t> localize(const Tensor&, float) { no_cuda(); }
std::vector<cam::Box> boxes_to_host(const DeviceArray<int32_t>&) { no_cuda(); }

}  // namespace gcam::cuda
