// fold.cpp — batch norm folded into the preceding convolution (formula in gcam/models.h).
// A batch norm that directly follows a convolution in the layer list belongs to it: conv1 → bn1,
// layer1.0.conv2 → layer1.0.bn2, layerS.0.downsample.0 → .1, VGG's features.N → features.N+1.
#include <cmath>

#include "gcam/models.h"
#include "on_host.h"

namespace gcam::models {

int fold_batch_norm(Model& model) {
  if (model.device() != Device::CPU)  // the arithmetic below is on the host
    return detail::on_host(model, [&] { return fold_batch_norm(model); });
  constexpr float kEps = 1e-5f;  // PyTorch's default, which every torchvision model uses
  const auto& layers = model.layers();
  int folded = 0;
  for (size_t i = 1; i < layers.size(); ++i) {
    if (layers[i].kind.rfind("BatchNorm2d", 0) != 0 || layers[i - 1].kind.rfind("Conv2d", 0) != 0) continue;
    const std::string& conv = layers[i - 1].path;
    const std::string& bn = layers[i].path;
    Tensor w = model.state_tensor(conv + ".weight");  // (K, C, kh, kw)
    Tensor gamma = model.state_tensor(bn + ".weight"), beta = model.state_tensor(bn + ".bias");
    Tensor mean = model.state_tensor(bn + ".running_mean"), var = model.state_tensor(bn + ".running_var");
    Tensor bias;
    for (const NamedTensor& e : model.state())
      if (e.name == conv + ".bias") bias = e.tensor;
    const int64_t channels = w.size(0), per_channel = w.numel() / channels;
    for (int64_t k = 0; k < channels; ++k) {
      const double s = gamma.data()[k] / std::sqrt(double(var.data()[k]) + kEps);
      float* row = w.data() + k * per_channel;
      for (int64_t j = 0; j < per_channel; ++j) row[j] = static_cast<float>(row[j] * s);
      const double b = bias.defined() ? bias.data()[k] : 0.0;
      beta.data()[k] = static_cast<float>(beta.data()[k] + (b - mean.data()[k]) * s);
      gamma.data()[k] = 1.0f;
      mean.data()[k] = 0.0f;
      var.data()[k] = 1.0f - kEps;  // so that √(σ′² + ε) = 1
      if (bias.defined()) bias.data()[k] = 0.0f;
    }
    ++folded;
  }
  return folded;
}

}  // namespace gcam::models
