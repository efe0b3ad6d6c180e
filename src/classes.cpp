// classes.cpp — the compiled-in ImageNet class names (see classes_text.cpp.in).
#include "gcam/classes.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace gcam {

extern const char* const kImagenetClassesText;  // generated from weights/imagenet_classes.txt by CMake

const std::vector<std::string>& imagenet_classes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    std::istringstream lines(kImagenetClassesText);
    std::string line;
    while (std::getline(lines, line))
      if (!line.empty()) out.push_back(line);
    return out;
  }();
  return names;
}

int64_t imagenet_class_index(const std::string& name) {
  const auto& names = imagenet_classes();
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int64_t>(i);
  const std::string wanted = lower(name);
  for (size_t i = 0; i < names.size(); ++i)
    if (lower(names[i]) == wanted) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace gcam
