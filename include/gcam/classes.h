// gcam/classes.h — the 1000 ImageNet class names (weights/imagenet_classes.txt, compiled in; line i is
// logit i of every torchvision ImageNet model).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcam {

const std::vector<std::string>& imagenet_classes();
// The index of a class name (exact, or case-insensitive), or −1.
int64_t imagenet_class_index(const std::string& name);

}  // namespace gcam
