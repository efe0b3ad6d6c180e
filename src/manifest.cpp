// manifest.cpp — parsing the compiled-in copy of weights/manifest.tsv (see manifest_text.cpp.in).
#include "gcam/manifest.h"

#include <sstream>

#include "gcam/error.h"

namespace gcam {

extern const char* const kManifestText;  // generated from weights/manifest.tsv by CMake

std::string OfficialWeights::file_name() const { return url.substr(url.rfind('/') + 1); }

const std::vector<OfficialWeights>& official_weights() {
  static const std::vector<OfficialWeights> entries = [] {
    std::vector<OfficialWeights> out;
    std::istringstream lines(kManifestText);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      OfficialWeights w;
      std::getline(fields, w.architecture, '\t');
      std::getline(fields, w.weights, '\t');
      std::getline(fields, w.url, '\t');
      std::getline(fields, w.sha256_prefix, '\t');
      fields >> w.resize >> w.crop >> w.top1 >> w.top5;
      GCAM_ASSERT(!fields.fail() && w.sha256_prefix.size() == 8);
      out.push_back(w);
    }
    return out;
  }();
  return entries;
}

const OfficialWeights* official_weights_for_file(const std::string& path) {
  const std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  for (const OfficialWeights& w : official_weights())
    if (w.file_name() == base) return &w;
  return nullptr;
}

}  // namespace gcam
