// vgg.cpp — torchvision's VGG (Simonyan & Zisserman), with and without batch norm.
//
//   features    for each width w in the configuration: conv 3×3 (pad 1) → [batch norm] → ReLU; for
//               each 0: max pool 2×2; every module takes the next index: features.0, features.1, …
//   avgpool     adaptive average pool to 7×7
//   classifier  0 linear 25088→4096, 1 ReLU, 2 dropout, 3 linear 4096→4096, 4 ReLU, 5 dropout,
//               6 linear 4096→classes
// or, with the global-average head (small models for small images, gcam's fashion_vgg):
//   avgpool     adaptive average pool to 1×1,   classifier.0  linear C→classes
// Every module's output is tapped under its path; the default Grad-CAM target is the ReLU after the
// last convolution (VGG-16: features.29, relu5_3, 14×14 at 224×224 input — the paper's layer).
#include <random>

#include "gcam/ops.h"
#include "layers.h"

namespace gcam::models {

namespace {

class Vgg : public Model {
 public:
  Vgg(const std::string& name, const std::vector<int64_t>& config, bool batch_norm, int64_t num_classes,
      bool global_average_head)
      : Model(name, num_classes), global_average_head_(global_average_head) {
    int64_t channels = 3, index = 0;
    for (int64_t width : config) {
      if (width == 0) {
        const std::string path = "features." + std::to_string(index++);
        steps_.push_back({Step::Pool, path, -1});
        add_layer(path, "MaxPool2d 2×2");
        continue;
      }
      const std::string conv_path = "features." + std::to_string(index++);
      detail::Conv conv{conv_path, add_parameter(conv_path + ".weight", Shape{width, channels, 3, 3}),
                        add_parameter(conv_path + ".bias", Shape{width}), ops::Conv2dOptions{1, 1}};
      convs_.push_back(conv);
      add_layer(conv_path, "Conv2d " + std::to_string(channels) + "→" + std::to_string(width) + " 3×3");
      if (batch_norm) {
        steps_.push_back({Step::Convolution, conv_path, static_cast<int>(convs_.size()) - 1});
        const std::string bn_path = "features." + std::to_string(index++);
        detail::BatchNorm bn{bn_path, add_parameter(bn_path + ".weight", Shape{width}),
                             add_parameter(bn_path + ".bias", Shape{width}),
                             add_buffer(bn_path + ".running_mean", Shape{width}, 0.0f),
                             add_buffer(bn_path + ".running_var", Shape{width}, 1.0f)};
        norms_.push_back(bn);
        add_layer(bn_path, "BatchNorm2d " + std::to_string(width));
      }
      const std::string relu_path = "features." + std::to_string(index++);
      if (batch_norm)
        steps_.push_back({Step::NormRelu, relu_path, static_cast<int>(norms_.size()) - 1});
      else
        steps_.push_back({Step::ConvRelu, relu_path, static_cast<int>(convs_.size()) - 1});
      add_layer(relu_path, "ReLU");
      default_target_ = relu_path;  // the last one wins: the ReLU after the last convolution
      channels = width;
    }
    if (global_average_head_) {
      add_layer("avgpool", "AdaptiveAvgPool2d 1×1");
      fc_[0] = make_linear("classifier.0", channels, num_classes);
      return;
    }
    add_layer("avgpool", "AdaptiveAvgPool2d 7×7");
    fc_[0] = make_linear("classifier.0", channels * 7 * 7, 4096);
    add_layer("classifier.1", "ReLU");
    add_layer("classifier.2", "Dropout 0.5");
    fc_[1] = make_linear("classifier.3", 4096, 4096);
    add_layer("classifier.4", "ReLU");
    add_layer("classifier.5", "Dropout 0.5");
    fc_[2] = make_linear("classifier.6", 4096, num_classes);
  }

  Tensor forward(const Tensor& x) override {
    Tensor h = x;  // (N, 3, H, W)
    for (const Step& step : steps_) {
      switch (step.kind) {
        case Step::Convolution: h = detail::run(convs_[step.index], h); break;
        case Step::ConvRelu:  // the convolution tapped under its own path, the ReLU under step.path
          h = detail::run_conv_relu(convs_[step.index], h);
          detail::tap(step.path, h);
          break;
        case Step::NormRelu:  // the batch norm tapped under its own path, the ReLU under step.path
          h = detail::run_bn_relu(norms_[step.index], h, training_);
          detail::tap(step.path, h);
          break;
        case Step::Pool:
          h = ops::max_pool2d(h, ops::MaxPool2dOptions{2, 2, 0, 1, false});
          detail::tap(step.path, h);
          break;
      }
    }
    if (global_average_head_) {
      h = ops::adaptive_avg_pool2d(h, 1);  // (N, C, 1, 1)
      detail::tap("avgpool", h);
      return detail::run(fc_[0], ops::flatten(h));  // (N, classes)
    }
    h = ops::adaptive_avg_pool2d(h, 7);  // (N, 512, 7, 7)
    detail::tap("avgpool", h);
    h = ops::flatten(h);  // (N, 25088)
    std::mt19937_64 rng(dropout_seed_ + forward_count_++);
    h = detail::run(fc_[0], h);
    h = detail::run_relu("classifier.1", h);
    h = ops::dropout(h, 0.5f, training_, &rng);
    detail::tap("classifier.2", h);
    h = detail::run(fc_[1], h);
    h = detail::run_relu("classifier.4", h);
    h = ops::dropout(h, 0.5f, training_, &rng);
    detail::tap("classifier.5", h);
    return detail::run(fc_[2], h);  // (N, classes)
  }

 private:
  struct Step {
    // Convolution: alone (vgg*_bn, before its batch norm); ConvRelu: convolution → ReLU (vgg*);
    // NormRelu: batch norm → ReLU (vgg*_bn)
    enum Kind { Convolution, ConvRelu, NormRelu, Pool } kind;
    std::string path;  // the torchvision path of the step's output (for ConvRelu and NormRelu, the ReLU's)
    int index;         // into convs_ or norms_
  };

  detail::Linear make_linear(const std::string& path, int64_t in, int64_t out) {
    add_layer(path, "Linear " + std::to_string(in) + "→" + std::to_string(out));
    return detail::Linear{path, add_parameter(path + ".weight", Shape{out, in}), add_parameter(path + ".bias", Shape{out})};
  }

  std::vector<Step> steps_;
  std::vector<detail::Conv> convs_;
  std::vector<detail::BatchNorm> norms_;
  detail::Linear fc_[3];
  bool global_average_head_ = false;
  uint64_t forward_count_ = 0;
};

}  // namespace

std::unique_ptr<Model> make_vgg(const std::string& name, const std::vector<int64_t>& config, bool batch_norm,
                                int64_t num_classes, bool global_average_head) {
  return std::make_unique<Vgg>(name, config, batch_norm, num_classes, global_average_head);
}

}  // namespace gcam::models
