// Explanations against PyTorch (tests/oracle/cam_reference.py): forward hook + autograd.grad at the
// target layer, guided ReLU by a custom backward, the same random weights and input. Tolerances from
// the explain issue: α and raw maps ≤ 1e-4 relative, normalised upsampled maps ≤ 1e-3 absolute, guided
// backprop ≤ 1e-3 relative. Also: gcam's preprocessing of the same picture against torchvision's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "gcam/error.h"
#include "gcam/explain.h"
#include "gcam/image.h"
#include "gcam/models.h"
#include "gcam/weights.h"
#include "support/archive.h"
#include "support/compare.h"

namespace gcam {
namespace {

std::string file(const std::string& name) { return test::oracle_path("cam/" + name); }

struct Case {
  std::string arch, layer, name;
};

class CamVsTorch : public ::testing::TestWithParam<Case> {};

TEST_P(CamVsTorch, GradCamAndGuidedBackpropMatch) {
  const Case& c = GetParam();
  const test::Archive oracle(file(c.name + ".gcamtest"));
  auto model = models::make_model(c.arch);
  models::load_weights(*model, *weights::Checkpoint::open(file(c.arch + "_zip.pth")));
  const int64_t cls = static_cast<int64_t>(oracle.values("class")[0]);
  cam::ExplainOptions options;
  options.layer = c.layer;
  options.guided = true;
  const cam::BatchExplanation result = cam::explain(*model, oracle.get("input"), {{cls}}, options);
  const cam::Explanation& e = result.images[0][0];

  EXPECT_TRUE(test::near_relative(result.logits, oracle.get("logits"), 1e-4)) << "logits";
  const Tensor alpha = Tensor::from_vector(Shape{static_cast<int64_t>(e.alpha.size())}, e.alpha);
  EXPECT_TRUE(test::near_relative(alpha, oracle.get("alpha"), 1e-4)) << "channel weights α";
  EXPECT_TRUE(test::near_relative(e.raw_map, oracle.get("raw"), 1e-4)) << "raw map";
  EXPECT_TRUE(test::near_relative(e.map, oracle.get("map"), 1e-3)) << "normalised upsampled map (max 1: absolute)";
  // Guided backprop in the L2 norm: the guided rule tests the sign of each gradient, so an element whose
  // gradient is rounding-sized on one side of zero can pass in one library and not in the other; the
  // largest single-element difference measured on VGG-16 is 2e-3 of the largest value.
  EXPECT_TRUE(test::near_in_norm(e.guided, oracle.get("guided"), 1e-3)) << "guided backprop";
  EXPECT_FALSE(e.map_all_zero);
  EXPECT_FALSE(e.box.empty);
  // Grad-CAM's backward pass stopped at the layer: it ran fewer nodes than the whole tape.
  EXPECT_LT(result.gradcam_stats.nodes_run, result.gradcam_stats.nodes_on_tape / 2);
}

INSTANTIATE_TEST_SUITE_P(Cases, CamVsTorch,
                         ::testing::Values(Case{"resnet18", "layer4", "resnet18_layer4"},
                                           Case{"resnet50", "layer4", "resnet50_layer4"},
                                           Case{"vgg16", "features.29", "vgg16_features_29"},
                                           Case{"vgg16", "features.30", "vgg16_features_30"}),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// A decoded picture against PIL's decoding of the same file (H, W, 3): the same size, every byte equal.
void expect_pils_bytes(const image::Image& ours, const Tensor& theirs, const std::string& name) {
  ASSERT_EQ(ours.height, theirs.size(0)) << name;
  ASSERT_EQ(ours.width, theirs.size(1)) << name;
  int64_t differing = 0;
  for (int64_t i = 0; i < theirs.numel(); ++i) differing += ours.rgb[i] != static_cast<uint8_t>(theirs.data()[i]);
  EXPECT_EQ(differing, 0) << name << ": bytes that differ from PIL's decoding";
}

// JPEG: the same bytes as PIL decodes (both use libjpeg-turbo with its default settings), in colour and
// greyscale, and in CMYK (Adobe's inverted CMYK, which libjpeg hands over as it is and gcam turns into
// RGB with PIL's own arithmetic); a file cut short is refused, naming the file.
TEST(Image, JpegDecodesAsPil) {
  const test::Archive oracle(file("jpeg.gcamtest"));
  for (const std::string name : {"photo", "gray", "cmyk"})
    expect_pils_bytes(image::read_image(file(name + ".jpg")), oracle.get(name), name);
  try {
    image::read_image(file("cut.jpg"));
    FAIL() << "a JPEG cut in half was decoded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.jpg: cannot decode the image (the JPEG data ends early)"), std::string::npos) << e.what();
  }
}

// PNG of every colour type and bit depth, plain and Adam7-interlaced (written by
// tests/oracle/png_variants.py): the same bytes as PIL's convert("RGB"), what torchvision's loader gives.
TEST(Image, PngDecodesAsPil) {
  const test::Archive oracle(file("png.gcamtest"));
  for (const std::string name : {"rgb8", "rgb16", "rgb8_trns", "rgba8", "rgba16", "grey8", "grey_alpha8", "grey4",
                                 "grey2", "grey1", "palette8", "palette8_trns", "palette4", "rgb8_adam7",
                                 "rgb16_adam7", "grey2_adam7", "palette4_adam7"}) {
    expect_pils_bytes(image::read_image(file("variant_" + name + ".png")), oracle.get(name), name);
  }
}

// torchvision: PIL resize (antialiased bilinear, 8-bit between passes) → centre crop → normalise.
// gcam computes the filter in float: a level apart at most, rarely.
TEST(Preprocess, MatchesTorchvisionOnTheSamePicture) {
  const test::Archive oracle(file("resnet18_layer4.gcamtest"));
  const image::Preprocess preprocess;
  const Tensor ours = image::to_input({image::network_view(image::read_image(file("picture.png")), preprocess)}, preprocess);
  const Tensor theirs = oracle.get("input");
  ASSERT_EQ(ours.shape(), theirs.shape());
  double worst = 0.0, total = 0.0;
  for (int64_t i = 0; i < ours.numel(); ++i) {
    const double d = std::fabs(double(ours.data()[i]) - theirs.data()[i]);
    worst = std::max(worst, d);
    total += d;
  }
  const double one_level = 1.0 / (255.0 * 0.224);  // one 8-bit step after normalisation
  std::printf("preprocessing: max |Δ| %.2f levels, mean %.4f levels\n", worst / one_level, total / ours.numel() / one_level);
  EXPECT_LE(worst, 2.01 * one_level);
  EXPECT_LE(total / ours.numel(), 0.05 * one_level);
}

}  // namespace
}  // namespace gcam
