// gcam/manifest.h — the official torchvision weight files gcam knows (weights/manifest.tsv, compiled in).
#pragma once

#include <string>
#include <vector>

namespace gcam {

struct OfficialWeights {
  std::string architecture;   // "vgg16"
  std::string weights;        // "IMAGENET1K_V1"
  std::string url;
  std::string sha256_prefix;  // first 8 hex digits of the file's SHA-256
  int resize = 256;           // shorter side before the centre crop (232 for the V2 ResNets)
  int crop = 224;
  double top1 = 0.0, top5 = 0.0;  // torchvision's published ImageNet accuracy

  std::string file_name() const;  // the URL's last part: "vgg16-397923af.pth"
};

const std::vector<OfficialWeights>& official_weights();
// The entry whose file name is the basename of `path`, or null.
const OfficialWeights* official_weights_for_file(const std::string& path);

}  // namespace gcam
