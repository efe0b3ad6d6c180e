// resnet.cpp — torchvision's ResNet (He et al.), "V1.5": a bottleneck's stride sits on its 3×3 conv.
//
//   stem    conv1 (7×7 / 2, pad 3) → bn1 → relu → maxpool (3×3 / 2, pad 1)
//   layerS  blocks; block 0 of a stage may change width or stride, and then its skip connection is
//           downsample = 1×1 conv (stride s) → batch norm
//     BasicBlock  conv1 3×3 (s) → bn1 → relu → conv2 3×3 → bn2;             out = relu(that + skip)
//     Bottleneck  conv1 1×1 → bn1 → relu → conv2 3×3 (s) → bn2 → relu → conv3 1×1 (×4) → bn3;
//                                                                          out = relu(that + skip)
//   head    avgpool (global) → flatten → fc
// Taps: every conv and batch norm, every block ("layer4.2"), every stage ("layer4"), stem, avgpool, fc.
#include "gcam/error.h"
#include "gcam/ops.h"
#include "layers.h"

namespace gcam::models {

namespace {

std::string conv_kind(int64_t in, int64_t out, int64_t k, int64_t stride) {
  std::string s = "Conv2d " + std::to_string(in) + "→" + std::to_string(out) + " " + std::to_string(k) + "×" +
                  std::to_string(k);
  return stride > 1 ? s + " /" + std::to_string(stride) : s;
}

class ResNet : public Model {
 public:
  explicit ResNet(const ResNetConfig& c) : Model(c.name, c.num_classes) {
    GCAM_CHECK(c.stem_width > 0 && c.in_channels > 0 && c.stem_kernel > 0 && c.stem_stride > 0,
               c.name, ": stem sizes must be positive");
    stem_conv_ = make_conv("conv1", c.in_channels, c.stem_width, c.stem_kernel, c.stem_stride, c.stem_kernel / 2);
    stem_bn_ = make_bn("bn1", c.stem_width);
    add_layer("relu", "ReLU");
    stem_max_pool_ = c.stem_max_pool;
    if (stem_max_pool_) add_layer("maxpool", "MaxPool2d 3×3 /2");
    const int64_t expansion = c.bottleneck ? 4 : 1;
    int64_t channels = c.stem_width;
    for (int s = 0; s < 4; ++s) {
      if (c.blocks[s] <= 0) break;
      GCAM_CHECK(c.widths[s] > 0, c.name, ": stage widths must be positive");
      const std::string stage = "layer" + std::to_string(s + 1);
      GCAM_CHECK(c.strides[s] > 0, c.name, ": stage strides must be positive");
      const int64_t width = c.widths[s], stride = c.strides[s];
      for (int b = 0; b < c.blocks[s]; ++b) {
        const std::string p = stage + "." + std::to_string(b);
        Block block;
        block.path = p;
        const int64_t block_stride = b == 0 ? stride : 1, out = width * expansion;
        if (c.bottleneck) {
          block.conv[0] = make_conv(p + ".conv1", channels, width, 1, 1, 0);
          block.bn[0] = make_bn(p + ".bn1", width);
          block.conv[1] = make_conv(p + ".conv2", width, width, 3, block_stride, 1);
          block.bn[1] = make_bn(p + ".bn2", width);
          block.conv[2] = make_conv(p + ".conv3", width, out, 1, 1, 0);
          block.bn[2] = make_bn(p + ".bn3", out);
          block.depth = 3;
        } else {
          block.conv[0] = make_conv(p + ".conv1", channels, width, 3, block_stride, 1);
          block.bn[0] = make_bn(p + ".bn1", width);
          block.conv[1] = make_conv(p + ".conv2", width, width, 3, 1, 1);
          block.bn[1] = make_bn(p + ".bn2", width);
          block.depth = 2;
        }
        if (block_stride != 1 || channels != out) {
          block.has_downsample = true;
          block.down_conv = make_conv(p + ".downsample.0", channels, out, 1, block_stride, 0);
          block.down_bn = make_bn(p + ".downsample.1", out);
        }
        add_layer(p, c.bottleneck ? "Bottleneck" : "BasicBlock");
        blocks_.push_back(block);
        channels = out;
      }
      add_layer(stage, "stage of " + std::to_string(c.blocks[s]) + " blocks");
      stage_ends_.push_back({stage, blocks_.size() - 1});
      default_target_ = stage;
    }
    if (default_target_.empty()) default_target_ = stem_max_pool_ ? "maxpool" : "relu";
    add_layer("avgpool", "AdaptiveAvgPool2d 1×1");
    add_layer("fc", "Linear " + std::to_string(channels) + "→" + std::to_string(c.num_classes));
    fc_ = detail::Linear{"fc", add_parameter("fc.weight", Shape{c.num_classes, channels}),
                         add_parameter("fc.bias", Shape{c.num_classes})};
  }

  Tensor forward(const Tensor& x) override {
    Tensor h = detail::run(stem_conv_, x);  // (N, 64, H/2, W/2)
    h = detail::run_bn_relu(stem_bn_, h, training_);
    detail::tap("relu", h);
    if (stem_max_pool_) {
      h = ops::max_pool2d(h, ops::MaxPool2dOptions{3, 2, 1, 1, false});  // (N, 64, H/4, W/4)
      detail::tap("maxpool", h);
    }
    size_t next_stage = 0;
    for (size_t i = 0; i < blocks_.size(); ++i) {
      h = run_block(blocks_[i], h);
      if (next_stage < stage_ends_.size() && stage_ends_[next_stage].second == i) detail::tap(stage_ends_[next_stage++].first, h);
    }
    h = ops::adaptive_avg_pool2d(h, 1);  // (N, C, 1, 1)
    detail::tap("avgpool", h);
    return detail::run(fc_, ops::flatten(h));  // (N, classes)
  }

 private:
  struct Block {
    std::string path;
    detail::Conv conv[3];
    detail::BatchNorm bn[3];
    int depth = 2;
    bool has_downsample = false;
    detail::Conv down_conv;
    detail::BatchNorm down_bn;
  };

  // out = relu(bn_last(conv_last(h)) + skip), h = relu(bn(conv(…))) of the convolutions before the last
  // (each batch norm → ReLU in one pass where nothing needs the batch norm's own output: run_bn_relu).
  Tensor run_block(const Block& block, const Tensor& x) {
    const int last = block.depth - 1;
    Tensor h = x;
    for (int i = 0; i < last; ++i) h = detail::run_bn_relu(block.bn[i], detail::run(block.conv[i], h), training_);
    h = detail::run(block.conv[last], h);
    Tensor skip = x;
    if (block.has_downsample) {
      skip = detail::run(block.down_bn, detail::run(block.down_conv, x), training_);
      detail::tap(block.path + ".downsample", skip);
    }
    Tensor out = detail::run_bn_relu(block.bn[last], h, training_, skip);  // the last ReLU comes after the sum
    detail::tap(block.path, out);
    return out;
  }

  detail::Conv make_conv(const std::string& path, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
    add_layer(path, conv_kind(in, out, k, stride));
    return detail::Conv{path, add_parameter(path + ".weight", Shape{out, in, k, k}), Tensor(),
                        ops::Conv2dOptions{stride, pad, 1, 1}};
  }

  detail::BatchNorm make_bn(const std::string& path, int64_t channels) {
    add_layer(path, "BatchNorm2d " + std::to_string(channels));
    return detail::BatchNorm{path, add_parameter(path + ".weight", Shape{channels}),
                             add_parameter(path + ".bias", Shape{channels}),
                             add_buffer(path + ".running_mean", Shape{channels}, 0.0f),
                             add_buffer(path + ".running_var", Shape{channels}, 1.0f)};
  }

  detail::Conv stem_conv_;
  detail::BatchNorm stem_bn_;
  bool stem_max_pool_ = true;
  std::vector<Block> blocks_;
  std::vector<std::pair<std::string, size_t>> stage_ends_;  // stage path, index of its last block
  detail::Linear fc_;
};

}  // namespace

std::unique_ptr<Model> make_resnet(const ResNetConfig& config) { return std::make_unique<ResNet>(config); }

}  // namespace gcam::models
