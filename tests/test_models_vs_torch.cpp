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

  // |Δ| ≤ 1e-4 + 1e-3·|ref| for every logit; returns the largest |Δ|.
  auto check_logits = [&](const Tensor& logits) {
    EXPECT_EQ(logits.shape(), expected.shape());
    double worst = 0.0;
    for (int64_t i = 0; i < logits.numel() && i < expected.numel(); ++i) {
      const double ref = expected.data()[i], got = logits.data()[i];
      worst = std::max(worst, std::fabs(got - ref));
      EXPECT_LE(std::fabs(got - ref), 1e-4 + 1e-3 * std::fabs(ref)) << "logit " << i << ": gcam " << got << ", torchvision " << ref;
    }
    return worst;
  };

  std::vector<std::vector<float>> states;  // every format's weights, to compare across formats
  std::unique_ptr<models::Model> model;
  for (const std::string suffix : {"_zip.pth", "_legacy.pth", ".safetensors"}) {
    SCOPED_TRACE(arch + suffix);
    auto checkpoint = weights::Checkpoint::open(stem(arch) + suffix);
    model = models::make_model(arch);
    const models::LoadReport report = models::load_weights(*model, *checkpoint);
    EXPECT_EQ(report.loaded, static_cast<int>(model->state().size()));
    const double worst = check_logits(model->forward(input));
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

  // Batch norm folded into the convolutions: the same function up to rounding.
  const int folded = models::fold_batch_norm(*model);
  EXPECT_EQ(folded > 0, arch.find("vgg") == std::string::npos || arch.find("_bn") != std::string::npos);
  std::printf("%s with %d batch norms folded: max |Δ logit| %.3g\n", arch.c_str(), folded,
              check_logits(model->forward(input)));

  // A file written by `gcam-weights convert --fold-bn` (CTest makes one for resnet18).
  const std::string converted = stem(arch) + "_gcam.safetensors";
  if (std::ifstream(converted).good()) {
    auto checkpoint = weights::Checkpoint::open(converted);
    auto reloaded = models::make_model(arch);
    models::load_weights(*reloaded, *checkpoint);
    std::printf("%s converted by gcam-weights: max |Δ logit| %.3g\n", arch.c_str(), check_logits(reloaded->forward(input)));
    bool named = false;
    for (const auto& [key, value] : checkpoint->metadata()) named |= key == "gcam.architecture" && value == arch;
    EXPECT_TRUE(named) << "no gcam.architecture metadata in " << converted;
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, ModelsVsTorch, ::testing::ValuesIn(models::architectures()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace gcam
