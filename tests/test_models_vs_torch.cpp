// torchvision's thirteen architectures against PyTorch: the same random weights, saved by Debian's
// torch as a zip checkpoint, a legacy checkpoint and a safetensors file (timm names for VGG), loaded by
// gcam, must give torchvision's logits within |Δ| ≤ 1e-4 + 1e-3·|ref| — and the three files must give
// bit-identical weights. The files come from tests/oracle/models_reference.py, one architecture per
// CTest fixture (tests/CMakeLists.txt), and are deleted after.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "gcam/models.h"
#include "gcam/weights.h"
#include "support/archive.h"

namespace gcam {
namespace {

class ModelsVsTorch : public ::testing::TestWithParam<std::string> {};

std::string stem(const std::string& arch) { return test::oracle_path("models/" + arch); }

TEST_P(ModelsVsTorch, LogitsMatchInEveryFormat) {
  const std::string arch = GetParam();
  std::ifstream probe(stem(arch) + ".gcamtest");
  ASSERT_TRUE(probe.good()) << "oracle files for " << arch << " missing: run through ctest (fixture models." << arch << ")";
  const test::Archive oracle(stem(arch) + ".gcamtest");
  const Tensor input = oracle.get("input"), expected = oracle.get("logits");

  std::vector<std::vector<float>> states;  // every format's weights, to compare across formats
  for (const std::string suffix : {"_zip.pth", "_legacy.pth", ".safetensors"}) {
    SCOPED_TRACE(arch + suffix);
    auto checkpoint = weights::Checkpoint::open(stem(arch) + suffix);
    auto model = models::make_model(arch);
    const models::LoadReport report = models::load_weights(*model, *checkpoint);
    EXPECT_EQ(report.loaded, static_cast<int>(model->state().size()));
    const Tensor logits = model->forward(input);
    ASSERT_EQ(logits.shape(), expected.shape());
    double worst = 0.0;
    for (int64_t i = 0; i < logits.numel(); ++i) {
      const double ref = expected.data()[i], got = logits.data()[i];
      const double excess = std::fabs(got - ref) - (1e-4 + 1e-3 * std::fabs(ref));
      worst = std::max(worst, std::fabs(got - ref));
      ASSERT_LE(excess, 0.0) << "logit " << i << ": gcam " << got << ", torchvision " << ref;
    }
    std::vector<float> flat;
    for (const auto& entry : model->state()) {
      const std::vector<float> v = entry.tensor.to_vector();
      flat.insert(flat.end(), v.begin(), v.end());
    }
    states.push_back(std::move(flat));
    std::printf("%s%s: %s, max |Δ logit| %.3g\n", arch.c_str(), suffix.c_str(), weights::format_name(checkpoint->format()), worst);
  }
  EXPECT_TRUE(states[0] == states[1]) << "zip and legacy files gave different weights";
  EXPECT_TRUE(states[0] == states[2]) << "zip and safetensors files gave different weights";
}

INSTANTIATE_TEST_SUITE_P(Architectures, ModelsVsTorch, ::testing::ValuesIn(models::architectures()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace gcam
