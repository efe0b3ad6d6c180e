// conv_shapes.h — the real convolution layers of ResNet-50 and VGG-16 at 224×224 input that the
// benchmarks time (the same list is in bench/torch_conv_bench.py, so both sides time the same work).
#pragma once

#include <cstdint>
#include <vector>

namespace gcam::bench {

struct ConvLayer {
  const char* name;  // torchvision path
  int64_t in_channels, out_channels, size, kernel, stride, padding;  // size = input H = W
};

inline const std::vector<ConvLayer>& conv_layers() {
  static const std::vector<ConvLayer> layers = {
      {"resnet50.conv1", 3, 64, 224, 7, 2, 3},
      {"resnet50.layer1.0.conv1", 64, 64, 56, 1, 1, 0},
      {"resnet50.layer1.0.conv2", 64, 64, 56, 3, 1, 1},
      {"resnet50.layer1.0.conv3", 64, 256, 56, 1, 1, 0},
      {"resnet50.layer2.1.conv2", 128, 128, 28, 3, 1, 1},
      {"resnet50.layer3.1.conv2", 256, 256, 14, 3, 1, 1},
      {"resnet50.layer4.1.conv2", 512, 512, 7, 3, 1, 1},
      {"vgg16.features.2", 64, 64, 224, 3, 1, 1},
      {"vgg16.features.7", 128, 128, 112, 3, 1, 1},
      {"vgg16.features.14", 256, 256, 56, 3, 1, 1},
      {"vgg16.features.21", 512, 512, 28, 3, 1, 1},
      {"vgg16.features.28", 512, 512, 14, 3, 1, 1},
  };
  return layers;
}

// Multiply-adds count twice: FLOPs = 2 · N · K · C · kh · kw · Ho · Wo.
inline double conv_flops(const ConvLayer& l, int64_t batch) {
  const int64_t out = (l.size + 2 * l.padding - l.kernel) / l.stride + 1;
  return 2.0 * batch * l.out_channels * l.in_channels * l.kernel * l.kernel * out * out;
}

}  // namespace gcam::bench
