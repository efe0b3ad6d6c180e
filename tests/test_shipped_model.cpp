// The model gcam ships (weights/fashion_resnet.safetensors, trained by gcam-train) still does what the
// README says, on 1,000 held-out canvases (gcam-localize's first 1,000; the README's table is all
// 10,000): classification accuracy ≥ 85%, Grad-CAM's pointing game ≥ 90%, Grad-CAM's localization error
// below guided backprop's and the centred box's, and the counterfactual map pointing away from the object.
#include <gtest/gtest.h>

#include "gcam/localization.h"
#include "gcam/model_card.h"
#include "gcam/train.h"
#include "gcam/weights.h"

namespace gcam {
namespace {

TEST(ShippedModel, ClassifiesAndLocalizesHeldOutCanvases) {
  auto checkpoint = weights::Checkpoint::open(default_weights_path());
  const ModelCard card = read_model_card(*checkpoint);
  ASSERT_TRUE(card.architecture == "fashion_resnet" || card.architecture == "fashion_vgg") << card.architecture;
  ASSERT_EQ(card.class_names.size(), 10u);
  EXPECT_EQ(card.class_names[7], "Sneaker");
  ASSERT_TRUE(card.has_preprocess);
  auto model = models::make_model(card.architecture, 10);
  models::load_weights(*model, *checkpoint);

  const data::ItemSet test = data::load_fashion_mnist(data::kFashionMnistDirectory, data::Split::Test);
  const data::ItemSet train = data::load_fashion_mnist(data::kFashionMnistDirectory, data::Split::Train);
  data::CanvasOptions canvas;
  canvas.size = card.preprocess.crop;
  eval::LocalizationOptions options;
  options.images = 1000;
  const eval::LocalizationReport r = eval::evaluate_localization(*model, test, train, canvas, card.preprocess, options);
  ASSERT_EQ(r.methods.size(), 6u);
  const eval::MethodScore &gradcam = r.methods[0], &counterfactual = r.methods[2], &guided = r.methods[3],
                          &centred = r.methods[5];
  ASSERT_EQ(gradcam.method, "Grad-CAM");
  ASSERT_EQ(gradcam.layer, model->default_target_layer());  // the last convolutional stage
  ASSERT_EQ(guided.method, "guided backprop");
  ASSERT_EQ(centred.method, "centred box");
  std::printf("accuracy %.3f; Grad-CAM pointing %.3f, loc. error %.3f; guided %.3f; centred %.3f; counterfactual pointing %.3f\n",
              r.accuracy(), gradcam.pointing(), gradcam.localization_error(), guided.localization_error(),
              centred.localization_error(), counterfactual.pointing());
  EXPECT_GE(r.accuracy(), 0.85);
  EXPECT_GE(gradcam.pointing(), 0.90);
  EXPECT_LT(gradcam.localization_error(), guided.localization_error());
  EXPECT_LT(gradcam.localization_error(), centred.localization_error());
  EXPECT_LT(counterfactual.pointing(), 0.5 * gradcam.pointing());  // it points away from the object
  EXPECT_LT(counterfactual.mass_in_box(), r.box_area);             // less of its weight on the object than chance
}

TEST(LocalizationScores, TheSecondToLastStageOfEachCanvasModel) {
  const data::ItemSet test = data::load_fashion_mnist(data::kFashionMnistDirectory, data::Split::Test);
  eval::LocalizationOptions options;
  options.images = 4;
  for (const char* arch : {"fashion_resnet", "fashion_vgg"}) {
    auto model = models::make_model(arch, 10);
    model->initialize(3);
    const eval::LocalizationReport r = eval::evaluate_localization(*model, test, test, data::CanvasOptions{}, train::canvas_preprocess(), options);
    EXPECT_EQ(r.images, 4);
    const bool resnet = std::string(arch) == "fashion_resnet";
    EXPECT_EQ(r.methods[0].layer, resnet ? "layer4" : "features.20");  // the last convolutional stage: 4×4 or 8×8
    EXPECT_EQ(r.methods[1].layer, resnet ? "layer3" : "features.13");  // the one before: 8×8 or 16×16
  }
}

TEST(LocalizationScores, IouPeakAndMassByHand) {
  const cam::Box a{0, 0, 3, 3, false}, b{2, 2, 5, 5, false}, empty;
  EXPECT_DOUBLE_EQ(eval::iou(a, b), 4.0 / 28.0);  // 2×2 overlap of two 4×4 boxes: 4 / (16 + 16 − 4)
  EXPECT_DOUBLE_EQ(eval::iou(a, a), 1.0);
  EXPECT_DOUBLE_EQ(eval::iou(a, empty), 0.0);
  const float map[6] = {0, 1, 3, 3, 0, 1};  // 2×3; the first maximum is at (x 2, y 0)
  const auto top = eval::peak(map, 2, 3);
  EXPECT_EQ(top.first, 2);
  EXPECT_EQ(top.second, 0);
  EXPECT_DOUBLE_EQ(eval::mass_inside(map, 2, 3, cam::Box{1, 0, 2, 0, false}), 4.0 / 8.0);
  const float zeros[4] = {0, 0, 0, 0};
  EXPECT_DOUBLE_EQ(eval::mass_inside(zeros, 2, 2, a), 0.0);
  const Tensor g = Tensor::from_vector(Shape{3, 1, 2}, {1, -5, -2, 0, 0.5f, 4});
  EXPECT_EQ(eval::gradient_saliency(g), (std::vector<float>{2, 5}));
}

}  // namespace
}  // namespace gcam
