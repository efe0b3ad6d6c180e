// model.cpp — what every model shares: its state (parameters and buffers by name), its layer list,
// training mode and initialisation; and the registry of torchvision architectures.
#include <algorithm>
#include <cmath>
#include <random>

#include "gcam/error.h"
#include "gcam/models.h"
#include "on_host.h"

namespace gcam::models {

Model::Model(std::string architecture, int64_t num_classes)
    : architecture_(std::move(architecture)), num_classes_(num_classes) {
  GCAM_CHECK(num_classes > 0 && num_classes <= kMaxClasses, architecture_, ": the number of classes must be from 1 to ",
             kMaxClasses, ", got ", num_classes);
}

Tensor Model::add_parameter(const std::string& name, const Shape& shape) {
  state_.push_back(NamedTensor{name, Tensor::zeros(shape), false});
  return state_.back().tensor;
}

Tensor Model::add_buffer(const std::string& name, const Shape& shape, float value) {
  state_.push_back(NamedTensor{name, Tensor::full(shape, value), true});
  return state_.back().tensor;
}

void Model::add_layer(const std::string& path, const std::string& kind) { layers_.push_back(LayerInfo{path, kind}); }

Tensor& Model::state_tensor(const std::string& name) {
  for (NamedTensor& entry : state_)
    if (entry.name == name) return entry.tensor;
  throw InputError(architecture_ + ": no parameter or buffer named '" + name + "'");
}

bool Model::has_layer(const std::string& path) const {
  for (const LayerInfo& layer : layers_)
    if (layer.path == path) return true;
  return false;
}

void Model::set_training(bool on, uint64_t dropout_seed) {
  training_ = on;
  dropout_seed_ = dropout_seed;
}

void Model::set_requires_grad(bool on) {
  for (NamedTensor& entry : state_)
    if (!entry.buffer) entry.tensor.set_requires_grad(on);
}

void Model::to(Device device) {
  for (NamedTensor& entry : state_) {
    if (entry.tensor.device() == device) continue;
    const Tensor moved = entry.tensor.to(device);
    TensorImpl* impl = entry.tensor.impl();
    impl->storage = moved.impl()->storage;  // every handle to this tensor now sees the new storage
    impl->offset = 0;
    impl->grad.reset();
  }
}

Device Model::device() const { return state_.empty() ? Device::CPU : state_.front().tensor.device(); }

void Model::initialize(uint64_t seed) {
  if (device() != Device::CPU) return detail::on_host(*this, [&] { initialize(seed); });  // drawn on the host
  std::mt19937_64 rng(seed);
  auto weight_of = [&](const std::string& stem) -> const Tensor* {
    for (const NamedTensor& e : state_)
      if (e.name == stem + "weight") return &e.tensor;
    return nullptr;
  };
  for (NamedTensor& e : state_) {
    const size_t dot = e.name.rfind('.');
    const std::string stem = e.name.substr(0, dot + 1), leaf = e.name.substr(dot + 1);
    float* p = e.tensor.data();
    const int64_t n = e.tensor.numel();
    const Tensor* weight = weight_of(stem);
    if (e.buffer) {  // batch norm: running mean 0, running variance 1
      std::fill(p, p + n, leaf == "running_var" ? 1.0f : 0.0f);
    } else if (leaf == "weight" && e.tensor.ndim() == 4) {  // convolution: Kaiming normal, fan-out, ReLU gain
      const double fan_out = double(e.tensor.size(0)) * e.tensor.size(2) * e.tensor.size(3);
      std::normal_distribution<float> normal(0.0f, static_cast<float>(std::sqrt(2.0 / fan_out)));
      for (int64_t j = 0; j < n; ++j) p[j] = normal(rng);
    } else if (weight && weight->ndim() == 2) {  // linear weight and bias: U(±1/√in), PyTorch's default
      const float bound = static_cast<float>(1.0 / std::sqrt(double(weight->size(1))));
      std::uniform_real_distribution<float> uniform(-bound, bound);
      for (int64_t j = 0; j < n; ++j) p[j] = uniform(rng);
    } else {  // batch norm γ = 1; batch norm β and convolution biases 0
      std::fill(p, p + n, leaf == "weight" ? 1.0f : 0.0f);
    }
  }
}

ResNetConfig fashion_resnet_config(int64_t num_classes) {
  ResNetConfig c;
  c.name = "fashion_resnet";
  c.blocks = {1, 1, 1, 1};
  c.widths = {16, 32, 64, 128};
  c.strides = {1, 2, 2, 1};  // layer4 keeps layer3's 8×8
  c.stem_width = 16;
  c.stem_kernel = 5;
  c.stem_stride = 2;
  c.stem_max_pool = false;
  c.num_classes = num_classes;
  return c;
}

std::vector<std::string> architectures() {
  return {"vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
          "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"};
}

std::vector<std::string> own_architectures() { return {"fashion_resnet", "fashion_vgg"}; }

std::string known_architectures() {
  std::string known;
  for (const std::string& a : architectures()) known += (known.empty() ? "" : ", ") + a;
  const std::vector<std::string> own = own_architectures();
  return known + ", and gcam's own " + own[0] + " and " + own[1];
}

std::unique_ptr<Model> make_model(const std::string& architecture, int64_t num_classes) {
  // torchvision's VGG configurations A, B, D, E (0 = max pool).
  static const std::vector<int64_t> A = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
  static const std::vector<int64_t> B = {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
  static const std::vector<int64_t> D = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  static const std::vector<int64_t> E = {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0,
                                         512, 512, 512, 512, 0, 512, 512, 512, 512, 0};
  const bool bn = architecture.size() > 3 && architecture.compare(architecture.size() - 3, 3, "_bn") == 0;
  const std::string base = bn ? architecture.substr(0, architecture.size() - 3) : architecture;
  if (base == "vgg11") return make_vgg(architecture, A, bn, num_classes);
  if (base == "vgg13") return make_vgg(architecture, B, bn, num_classes);
  if (base == "vgg16") return make_vgg(architecture, D, bn, num_classes);
  if (base == "vgg19") return make_vgg(architecture, E, bn, num_classes);
  if (architecture == "fashion_vgg") return make_vgg(architecture, {16, 0, 32, 0, 64, 64, 0, 128, 128}, true, num_classes, true);
  ResNetConfig c;
  c.name = architecture;
  c.num_classes = num_classes;
  if (architecture == "resnet18") c.blocks = {2, 2, 2, 2};
  else if (architecture == "resnet34") c.blocks = {3, 4, 6, 3};
  else if (architecture == "resnet50") c.blocks = {3, 4, 6, 3}, c.bottleneck = true;
  else if (architecture == "resnet101") c.blocks = {3, 4, 23, 3}, c.bottleneck = true;
  else if (architecture == "resnet152") c.blocks = {3, 8, 36, 3}, c.bottleneck = true;
  else if (architecture == "fashion_resnet") return make_resnet(fashion_resnet_config(num_classes));
  else {
    throw InputError("unknown model '" + architecture + "' (known: " + known_architectures() + ")");
  }
  return make_resnet(c);
}

}  // namespace gcam::models
