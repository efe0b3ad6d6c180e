// ops_stub.cpp — the CUDA ops in a build without CUDA. No tensor can reach the device in such a build
// (allocation already refuses), so these only guard the link; each says why it cannot run.
#include "ops.h"

#include "gcam/error.h"

namespace gcam::cuda {

namespace {
[[noreturn]] void no_cuda() {
  throw InputError("cuda: gcam was built without CUDA (configure with nvcc and cuDNN present, GCAM_CUDA=ON)");
}
}  // namespace

Tensor relu(const Tensor&) { no_cuda(); }
Tensor relu_backward(const Tensor&, const Tensor&, ReluRule) { no_cuda(); }
Tensor add(const Tensor&, const Tensor&) { no_cuda(); }
void add_into(Tensor&, const Tensor&) { no_cuda(); }
Tensor multiply(const Tensor&, const Tensor&) { no_cuda(); }
BatchNormResult batch_norm(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, bool, float, float) {
  no_cuda();
}
std::vector<Tensor> batch_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool,
                                        const std::vector<bool>&) {
  no_cuda();
}
Tensor max_pool2d(const Tensor&, const ops::MaxPool2dOptions&, int64_t, int64_t, DeviceArray<int32_t>&) { no_cuda(); }
Tensor max_pool2d_backward(const Tensor&, const Shape&, const ops::MaxPool2dOptions&, const DeviceArray<int32_t>&) {
  no_cuda();
}
Tensor average_pool2d(const Tensor&, int64_t, int64_t, const AverageWindows&) { no_cuda(); }
Tensor average_pool2d_backward(const Tensor&, const Shape&, const AverageWindows&) { no_cuda(); }
Tensor softmax(const Tensor&, bool) { no_cuda(); }
Tensor softmax_backward(const Tensor&, const Tensor&, bool) { no_cuda(); }
CrossEntropyResult cross_entropy(const Tensor&, const DeviceArray<int32_t>&) { no_cuda(); }
Tensor cross_entropy_backward(const Tensor&, const Tensor&, const DeviceArray<int32_t>&) { no_cuda(); }
Tensor conv2d_forward(const Tensor&, const Tensor&, const Tensor&, const ops::Conv2dOptions&) { no_cuda(); }
Tensor conv2d_backward_data(const Tensor&, const Tensor&, const Shape&, const ops::Conv2dOptions&) { no_cuda(); }
Tensor conv2d_backward_weight(const Tensor&, const Tensor&, const Shape&, const ops::Conv2dOptions&) { no_cuda(); }
Tensor conv2d_backward_bias(const Tensor&) { no_cuda(); }
void set_conv_engine(ConvEngine) {}  // nothing runs on a GPU in this build: the setting has nothing to choose
ConvEngine conv_engine() { return ConvEngine::Auto; }
Tensor linear(const Tensor&, const Tensor&, const Tensor&) { no_cuda(); }
Tensor linear_backward_input(const Tensor&, const Tensor&) { no_cuda(); }
Tensor linear_backward_weight(const Tensor&, const Tensor&) { no_cuda(); }
Tensor linear_backward_bias(const Tensor&) { no_cuda(); }

}  // namespace gcam::cuda
