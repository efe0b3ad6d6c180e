// gcam/models.h — torchvision's VGG and ResNet, with torchvision's parameter names and layer paths.
//
//   auto model = models::make_model("resnet50");
//   models::load_weights(*model, *weights::Checkpoint::open("resnet50-0676ba61.pth"));
//   Tensor logits = model->forward(x);               // x (N, 3, H, W) → (N, 1000)
//
// Every layer is addressable by its torchvision path ("features.29", "layer4", "layer4.2.conv3", "fc"):
// when x is recorded on a tape, forward taps each layer's output under that path, so Grad-CAM can ask
// the tape for the activation and gradient of any of them (Tape::tapped).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gcam/ops/conv2d.h"
#include "gcam/tensor.h"
#include "gcam/weights.h"

namespace gcam::models {

// A parameter (learned) or buffer (BatchNorm's running statistics), under its state-dict name.
struct NamedTensor {
  std::string name;
  Tensor tensor;
  bool buffer = false;
};

// A point of the network a user can name: its torchvision path and what produces it.
struct LayerInfo {
  std::string path;  // "layer4.2.conv3"
  std::string kind;  // "Conv2d 512→2048 1×1"
};

class Model {
 public:
  virtual ~Model() = default;

  const std::string& architecture() const { return architecture_; }
  int64_t num_classes() const { return num_classes_; }

  // (N, C, H, W) → logits (N, classes).
  virtual Tensor forward(const Tensor& x) = 0;

  // Parameters and buffers in torchvision's state-dict order.
  const std::vector<NamedTensor>& state() const { return state_; }
  Tensor& state_tensor(const std::string& name);  // InputError naming an unknown name
  // The layers in execution order, and whether a path names one.
  const std::vector<LayerInfo>& layers() const { return layers_; }
  bool has_layer(const std::string& path) const;
  // The last convolutional stage, Grad-CAM's usual target: "features.29" for VGG-16, "layer4" for ResNets.
  const std::string& default_target_layer() const { return default_target_; }

  // Training mode: batch statistics in batch norm (running statistics updated), dropout active.
  void set_training(bool on, uint64_t dropout_seed = 0);
  bool training() const { return training_; }
  // Marks every parameter (not buffers) as a leaf whose gradient Tape::backward fills.
  void set_requires_grad(bool on);
  // Moves every parameter and buffer to `device`, in place: the layers keep their handles, and the
  // forward pass then runs where its input and weights are (gradients already held are dropped).
  void to(Device device);
  Device device() const;
  // torchvision's initialisation (Kaiming-normal convolutions, unit batch norm, small linear layers).
  void initialize(uint64_t seed);

 protected:
  Model(std::string architecture, int64_t num_classes);
  Tensor add_parameter(const std::string& name, const Shape& shape);  // a handle sharing the state's impl
  Tensor add_buffer(const std::string& name, const Shape& shape, float value);
  void add_layer(const std::string& path, const std::string& kind);

  std::string default_target_;
  bool training_ = false;
  uint64_t dropout_seed_ = 0;

 private:
  std::string architecture_;
  int64_t num_classes_;
  std::vector<NamedTensor> state_;
  std::vector<LayerInfo> layers_;
};

// "vgg11", "vgg11_bn", …, "vgg19_bn", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152".
std::vector<std::string> architectures();
// gcam's own, for small images: "fashion_resnet", "fashion_vgg" (make_model builds these too).
std::vector<std::string> own_architectures();
// Both lists in one line, for messages: "vgg11, …, resnet152, and gcam's own fashion_resnet and fashion_vgg".
std::string known_architectures();
// The most classes a model may have: a class count often comes from a file (the rows of a checkpoint's
// classifier), and 2^20 rows (a million classes) is far past any real classifier.
constexpr int64_t kMaxClasses = int64_t{1} << 20;
// InputError for an unknown architecture or a class count outside [1, kMaxClasses].
std::unique_ptr<Model> make_model(const std::string& architecture, int64_t num_classes = 1000);

// The ResNet family beyond torchvision's five: any depth and width, and a stem for small images.
struct ResNetConfig {
  std::string name = "resnet";
  bool bottleneck = false;                        // Bottleneck (×4 expansion) or BasicBlock
  std::array<int, 4> blocks = {2, 2, 2, 2};       // blocks per stage (0 ends the network early)
  std::array<int64_t, 4> widths = {64, 128, 256, 512};
  std::array<int64_t, 4> strides = {1, 2, 2, 2};  // of each stage's first block
  int64_t stem_width = 64;
  int64_t stem_kernel = 7;                        // 7×7 stride 2 (ImageNet) or e.g. 3×3 stride 1
  int64_t stem_stride = 2;
  bool stem_max_pool = true;
  int64_t in_channels = 3;
  int64_t num_classes = 1000;
};
std::unique_ptr<Model> make_resnet(const ResNetConfig& config);

// gcam's own model for 64×64 canvases (src/tools/gcam_train.cpp trains it; weights/ ships it), made by
// make_model("fashion_resnet"): four one-block stages of widths 16, 32, 64, 128 after a 5×5 / 2 stem
// without max pool; layer4 does not downsample, so the last stage is 8×8 (1/8 of the input) and
// layer3 8×8 too, layer2 16×16. (With layer4 at 4×4, measured at epoch 3 of 12 on 500 held-out canvases,
// Grad-CAM's pointing game was 81% at layer4 against 94% at layer3: 4×4 cells are too coarse.)
ResNetConfig fashion_resnet_config(int64_t num_classes = 10);
// Its VGG counterpart, make_model("fashion_vgg"): conv widths 16, M, 32, M, 64, 64, M, 128, 128 with batch
// norm and a global-average head — the last convolution at 8×8 too, for comparing how each localizes.

// torchvision's VGG: `config` lists conv widths with 0 for a 2×2 max pool ("M" in torchvision). With
// global_average_head the classifier is one linear layer after a global average pool (for small models).
std::unique_ptr<Model> make_vgg(const std::string& name, const std::vector<int64_t>& config, bool batch_norm,
                                int64_t num_classes = 1000, bool global_average_head = false);

// Copies a checkpoint's tensors into the model, matching names strictly: a missing, unexpected or
// mis-shaped tensor is an InputError naming it (non_strict forgives missing and unexpected names, never
// shapes). Accepted on the way: a DataParallel "module." prefix, timm's VGG classifier names
// (pre_logits.fc1/fc2 as 4-D convolutions, head.fc), and BatchNorm's num_batches_tracked (ignored).
struct LoadReport {
  int loaded = 0;
  std::vector<std::string> missing, unexpected;  // filled only when non_strict forgave them
};
LoadReport load_weights(Model& model, const weights::Checkpoint& checkpoint, bool non_strict = false);

// Folds every batch norm into the convolution before it, keeping torchvision's layout: with
// s = γ/√(σ² + ε), the convolution's weight becomes w·s and the batch norm a pure shift
// (γ′ = 1, μ′ = 0, σ′² = 1 − ε, β′ = β + (b − μ)·s, and the convolution's bias, if any, 0).
// The model computes the same function up to float rounding. Returns the number of pairs folded.
int fold_batch_norm(Model& model);

}  // namespace gcam::models
