// The fused Grad-CAM kernels (src/cuda/cam.h) against the CPU functions of gcam/cam.h and
// gcam/colormap.h, and the reduction also against its steps unfused, by gcam's ops on the GPU
// (support/gradcam_by_ops.h): maps within 1e-4 after normalisation, including odd feature sizes, planes
// larger than a block, batches whose images differ, all-zero maps (zeros and a flag, never NaN) and the
// counterfactual; the upsampling with Guided Grad-CAM's product; the heatmap and overlay bytes. Each
// test skips cleanly without a GPU. Then the Grad-CAM step as a CUDA graph (gcam/gradcam_graph.h), alone
// and with guided backprop.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "cuda/cam.h"  // internal: the kernels under test
#include "cuda/runtime.h"
#include "gcam/cam.h"
#include "gcam/colormap.h"
#include "gcam/error.h"
#include "gcam/explain.h"
#include "gcam/gradcam_graph.h"
#include "support/box_cases.h"
#include "support/compare.h"
#include "support/draw_checks.h"
#include "support/gradcam_by_ops.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

using test::random_normal;

#define REQUIRE_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device"

// Activations after a ReLU are ≥ 0: |x| of a normal sample.
Tensor activations(const Shape& s, unsigned seed) {
  std::vector<float> v = random_normal(s, seed).to_vector();
  for (float& e : v) e = std::fabs(e);
  return Tensor::from_vector(s, v);
}

// A resnet18 with random weights (seed), on the GPU.
std::unique_ptr<models::Model> resnet18_on_gpu(unsigned seed) {
  auto model = models::make_model("resnet18");
  model->initialize(seed);
  model->to(Device::CUDA);
  return model;
}

// N pictures of H×W whose bytes follow (i·step + n) mod 256: every image different.
std::vector<image::Image> patterned_pictures(int64_t N, int64_t H, int64_t W, size_t step) {
  std::vector<image::Image> pictures(N);
  for (int64_t n = 0; n < N; ++n) {
    pictures[n] = {W, H, std::vector<uint8_t>(static_cast<size_t>(H * W * 3))};
    for (size_t i = 0; i < pictures[n].rgb.size(); ++i) pictures[n].rgb[i] = static_cast<uint8_t>((i * step + n) % 256);
  }
  return pictures;
}

const char* name(cuda::Reduction kernel) {
  switch (kernel) {
    case cuda::Reduction::Auto: return "auto";
    case cuda::Reduction::Streamed: return "streamed";
    case cuda::Reduction::Sliced: return "sliced";
    case cuda::Reduction::Clustered: return "clustered";
    case cuda::Reduction::ClusteredBulk: return "clustered with bulk loads";
  }
  return "?";
}

// Each kernel asked for, with each cut of the channels into blocks, as the trace of a check.
std::string described(const Shape& s, cuda::ReductionOptions how) {
  return s.str() + " asked " + name(how.kernel) + ", " + std::to_string(how.channels_per_block) +
         " channels per block: ran " + name(cuda::gradcam_reduction_for(s, how));
}

// The shapes of the reduction checks: ResNet-50's and VGG-16's target layers, odd sizes, a 224-pixel
// plane (the streamed kernel's largest: 7 pixels per lane) and planes beyond it (the sliced kernel then;
// 70×70 is also beyond the sliced kernel's shared-memory stage, so it reads global memory by the same
// code), with A (≥ 0, as after a ReLU) and ∂y/∂A drawn from seeds that differ per shape.
const std::vector<Shape> kReductionShapes = {Shape{3, 2048, 7, 7}, Shape{2, 512, 14, 14}, Shape{2, 5, 3, 11},
                                             Shape{2, 9, 14, 16},  Shape{2, 16, 7, 7},    Shape{1, 8, 30, 30},
                                             Shape{4, 64, 1, 1},   Shape{2, 20, 70, 70}};
Tensor reduction_activations(size_t i) { return activations(kReductionShapes[i], 10 + i); }
Tensor reduction_gradients(size_t i) { return random_normal(kReductionShapes[i], 20 + i, 0.01f); }

// The fused kernel's α, raw map, normalised map and flags against expected ones (the CPU's, or the
// unfused ops'): α and the raw map within 1e-5 of their scale, the map within 1e-4.
void expect_maps(const cuda::GradcamMaps& g, const Tensor& alpha, const Tensor& raw, const Tensor& map,
                 const std::vector<bool>& zero) {
  EXPECT_TRUE(test::near_relative(g.alpha.to(Device::CPU), alpha, 1e-5));
  EXPECT_TRUE(test::near_relative(g.raw.to(Device::CPU), raw, 1e-5));
  const std::vector<float> got = g.map.to(Device::CPU).to_vector(), want = map.to_vector();
  for (size_t k = 0; k < got.size(); ++k) ASSERT_NEAR(got[k], want[k], 1e-4) << "pixel " << k;
  EXPECT_EQ(g.all_zero, zero);
}

// A kernel, with every cut of the channels into blocks, gives the CPU's maps: its own cut, one channel
// per block, 3 per block (a last block that is partly empty) and all K in one block per image. For the
// clustered kernel that is clusters of 1 to 16 blocks (one channel a block makes clusters of 9 and 16 on
// the 9- and 16-channel shapes, beyond the portable 8) and warps that make 8 passes over a block's
// channels; the cuts that need more than 16 blocks run the streamed kernel, as the trace says.
void expect_reduction_equals_the_cpu(cuda::Reduction kernel) {
  for (size_t i = 0; i < kReductionShapes.size(); ++i) {
    const Tensor A = reduction_activations(i), dA = reduction_gradients(i);
    const Tensor alpha = cam::channel_weights(dA);
    const Tensor A_gpu = A.to(Device::CUDA), dA_gpu = dA.to(Device::CUDA);
    for (bool counterfactual : {false, true}) {
      const Tensor raw = cam::weighted_map(A, alpha, counterfactual);
      Tensor map = raw.clone();
      std::vector<bool> zero;
      cam::normalize_maps(map, &zero);
      for (int64_t cut : {int64_t{0}, int64_t{1}, int64_t{3}, kReductionShapes[i][1]}) {
        const cuda::ReductionOptions how{kernel, cut};
        SCOPED_TRACE(described(kReductionShapes[i], how) + (counterfactual ? ", counterfactual" : ""));
        expect_maps(cuda::gradcam_maps(A_gpu, dA_gpu, counterfactual, true, how), alpha, raw, map, zero);
      }
    }
  }
}

// A kernel at its own cut gives what the same reduction gives unfused, by gcam's ops on the GPU
// (support/gradcam_by_ops.h: pooling, a grouped 1×1 convolution by cuDNN, ReLU), on the same shapes.
void expect_reduction_equals_the_unfused_ops(cuda::Reduction kernel) {
  for (size_t i = 0; i < kReductionShapes.size(); ++i) {
    const Tensor A_gpu = reduction_activations(i).to(Device::CUDA), dA_gpu = reduction_gradients(i).to(Device::CUDA);
    for (bool counterfactual : {false, true}) {
      const test::MapsByOps unfused = test::gradcam_by_ops(A_gpu, dA_gpu, counterfactual);
      SCOPED_TRACE(described(kReductionShapes[i], {kernel, 0}) + (counterfactual ? ", counterfactual" : ""));
      expect_maps(cuda::gradcam_maps(A_gpu, dA_gpu, counterfactual, true, {kernel, 0}), unfused.alpha, unfused.raw,
                  unfused.map, unfused.all_zero);
    }
  }
}

// Every sum runs in a fixed order: two runs of a kernel give the same bits.
void expect_deterministic(cuda::Reduction kernel) {
  const Shape s{16, 2048, 7, 7};
  const Tensor A = activations(s, 60).to(Device::CUDA), dA = random_normal(s, 61, 0.01f).to(Device::CUDA);
  SCOPED_TRACE(described(s, {kernel, 0}));
  const cuda::GradcamMaps first = cuda::gradcam_maps(A, dA, false, true, {kernel, 0}),
                          second = cuda::gradcam_maps(A, dA, false, true, {kernel, 0});
  EXPECT_EQ(first.raw.to(Device::CPU).to_vector(), second.raw.to(Device::CPU).to_vector());
  EXPECT_EQ(first.map.to(Device::CPU).to_vector(), second.map.to(Device::CPU).to_vector());
}

// Image 0: gradients all negative on positive activations → ReLU(Σ α A) = 0 everywhere. Image 1: an
// ordinary map. The counterfactual swaps which one is empty.
void expect_zero_maps_flagged_never_nan(cuda::Reduction kernel) {
  for (int64_t size : {5, 6}) {
    const Shape s{2, 16, size, size};
    const int64_t plane = size * size, per_image = 16 * plane;
    SCOPED_TRACE(described(s, {kernel, 0}));
    std::vector<float> grads = random_normal(s, 31).to_vector();
    for (int64_t k = 0; k < per_image; ++k) grads[k] = -std::fabs(grads[k]) - 0.01f;
    for (int64_t k = per_image; k < 2 * per_image; ++k) grads[k] = std::fabs(grads[k]) + 0.01f;
    const Tensor A = activations(s, 30).to(Device::CUDA), dA = Tensor::from_vector(s, grads).to(Device::CUDA);
    for (bool counterfactual : {false, true}) {
      const cuda::GradcamMaps g = cuda::gradcam_maps(A, dA, counterfactual, true, {kernel, 0});
      const int64_t empty = counterfactual ? 1 : 0;
      EXPECT_EQ(g.all_zero, (std::vector<bool>{empty == 0, empty == 1}));
      const std::vector<float> map = g.map.to(Device::CPU).to_vector();
      for (int64_t k = 0; k < plane; ++k) EXPECT_EQ(map[empty * plane + k], 0.0f);
      for (float v : map) EXPECT_FALSE(std::isnan(v));
      float top = 0.0f;
      for (int64_t k = 0; k < plane; ++k) top = std::max(top, map[(1 - empty) * plane + k]);
      EXPECT_NEAR(top, 1.0f, 1e-5);  // the other image's map spans [0, 1]
    }
  }
}

// The clustered kernel (not yet run on a GPU when written) is checked by the same functions in the
// tests at the end of this file, so that a failure there cannot stop the tests before them.
TEST(CudaCam, FusedReductionEqualsTheCpuFunctions) {
  REQUIRE_GPU();
  for (cuda::Reduction kernel : {cuda::Reduction::Auto, cuda::Reduction::Streamed, cuda::Reduction::Sliced})
    expect_reduction_equals_the_cpu(kernel);
}

// (Its own test, so that gpu_check's memcheck can leave out cuDNN's algorithm search, which is slow there.)
TEST(CudaCam, FusedReductionEqualsTheUnfusedOps) {
  REQUIRE_GPU();
  for (cuda::Reduction kernel : {cuda::Reduction::Streamed, cuda::Reduction::Sliced})
    expect_reduction_equals_the_unfused_ops(kernel);
}

TEST(CudaCam, FusedReductionIsDeterministic) {
  REQUIRE_GPU();
  for (cuda::Reduction kernel : {cuda::Reduction::Streamed, cuda::Reduction::Sliced}) expect_deterministic(kernel);
}

TEST(CudaCam, AllZeroMapsAreZerosAndFlaggedNeverNan) {
  REQUIRE_GPU();
  for (cuda::Reduction kernel : {cuda::Reduction::Streamed, cuda::Reduction::Sliced})
    expect_zero_maps_flagged_never_nan(kernel);
}

// Which kernel a shape takes: by default the streamed one up to 224 pixels a plane, the sliced one
// beyond, also when the streamed one is asked for; the sliced one whenever it is asked for; the
// clustered one when asked for, on a GPU with clusters, up to 224 pixels and 8 blocks per image, else
// what the default takes.
TEST(CudaCam, EachKernelTakesOnlyTheShapesItFits) {
  REQUIRE_GPU();
  using cuda::Reduction;
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{16, 2048, 7, 7}), Reduction::Streamed);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{16, 512, 14, 14}), Reduction::Streamed);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 9, 14, 16}), Reduction::Streamed);  // 224 pixels
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 9, 15, 15}), Reduction::Sliced);    // 225
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 64, 56, 56}), Reduction::Sliced);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 9, 15, 15}, {Reduction::Streamed, 0}), Reduction::Sliced);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 64, 7, 7}, {Reduction::Sliced, 0}), Reduction::Sliced);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 64, 7, 7}, {Reduction::Streamed, 3}), Reduction::Streamed);
  // Clustered: 2048 channels in 8 blocks of 256 by default, in 16 of 128 when asked (or 127: 17
  // blocks, too many).
  const Shape layer4{16, 2048, 7, 7};
  // Hopper and later have clusters (a build for older GPUs alone would not hold the kernel's code: then
  // this fails, on purpose, rather than let every clustered check below test the streamed kernel).
  const bool clusters = cuda::clusters_supported();
  EXPECT_EQ(clusters, cuda::compute_capability() >= 90) << "compute capability " << cuda::compute_capability();
  const Reduction clustered = clusters ? Reduction::Clustered : Reduction::Streamed;
  EXPECT_EQ(cuda::gradcam_reduction_for(layer4, {Reduction::Clustered, 0}), clustered);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{16, 512, 14, 14}, {Reduction::Clustered, 0}), clustered);
  EXPECT_EQ(cuda::gradcam_reduction_for(layer4, {Reduction::Clustered, 128}), clustered);
  EXPECT_EQ(cuda::gradcam_reduction_for(layer4, {Reduction::Clustered, 127}), Reduction::Streamed);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 9, 15, 15}, {Reduction::Clustered, 0}), Reduction::Sliced);
  // ClusteredBulk: where each block's slices are in 16-byte steps and fit in shared memory. Both target
  // layers at their own cut (256 channels of 49 floats, 64 of 196: 2 × 50 KB a block); not one 49-pixel
  // channel a block (196 bytes), nor all 2048 in one block (2 × 800 KB): the plain clustered kernel then,
  // or what it falls back to.
  const Reduction bulk = clusters ? Reduction::ClusteredBulk : Reduction::Streamed;
  EXPECT_EQ(cuda::gradcam_reduction_for(layer4, {Reduction::ClusteredBulk, 0}), bulk);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{16, 512, 14, 14}, {Reduction::ClusteredBulk, 0}), bulk);
  EXPECT_EQ(cuda::gradcam_reduction_for(layer4, {Reduction::ClusteredBulk, 128}), bulk);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 16, 7, 7}, {Reduction::ClusteredBulk, 1}), clustered);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 2048, 7, 7}, {Reduction::ClusteredBulk, 2048}), clustered);
  EXPECT_EQ(cuda::gradcam_reduction_for(layer4, {Reduction::ClusteredBulk, 127}), Reduction::Streamed);
  EXPECT_EQ(cuda::gradcam_reduction_for(Shape{2, 9, 15, 15}, {Reduction::ClusteredBulk, 0}), Reduction::Sliced);
}

// One draw launch makes what the CPU makes in four steps (the upsampled map, Guided Grad-CAM's product,
// the heatmap and the overlay), and asked for fewer outputs gives the same ones: support/draw_checks.h,
// the checks that test_draw_steps.cpp runs on the launch's pixel steps on the CPU.
test::DrawnOnHost draw_on_gpu(const Tensor& maps, const test::DrawRequest& what) {
  const Tensor guided = what.guided ? what.guided->to(Device::CUDA) : Tensor();
  cuda::DeviceArray<uint8_t> pictures;
  if (what.pictures) pictures = cuda::DeviceArray<uint8_t>::copy_from_host(*what.pictures);
  cuda::Drawing drawing;
  drawing.height = what.height, drawing.width = what.width, drawing.map = what.map, drawing.heat = what.heat;
  drawing.guided = what.guided ? &guided : nullptr, drawing.pictures = what.pictures ? &pictures : nullptr;
  drawing.colormap = what.colormap, drawing.alpha = what.alpha;
  const cuda::Drawn drawn = cuda::draw(maps.to(Device::CUDA), drawing);
  test::DrawnOnHost out;
  if (drawn.map.defined()) out.map = drawn.map.to(Device::CPU).to_vector();
  if (drawn.guided_gradcam.defined()) out.guided_gradcam = drawn.guided_gradcam.to(Device::CPU).to_vector();
  if (drawn.heat.size() > 0) out.heat = drawn.heat.copy_to_host();
  if (drawn.overlay.size() > 0) out.overlay = drawn.overlay.copy_to_host();
  return out;
}

TEST(CudaCam, DrawingEqualsTheCpu) {
  REQUIRE_GPU();
  test::expect_drawing_equals_the_cpu(draw_on_gpu);
}

TEST(CudaCam, HeatmapAndOverlayBytesEqualTheCpu) {
  REQUIRE_GPU();
  test::expect_colours_equal_the_cpu(draw_on_gpu);
}

// The gradients' pictures made on the device are gcam/colormap.h's gradient_picture of each image, to
// within one unit of a byte (the sums run in another order); a constant gradient is all grey. A heatmap
// without pictures to blend is the CPU's heatmap.
TEST(CudaCam, GradientPicturesAndLoneHeatmapsEqualTheCpu) {
  REQUIRE_GPU();
  const int64_t N = 3, H = 37, W = 29;
  std::vector<float> g = random_normal(Shape{N, 3, H, W}, 61, 2.0f).to_vector();
  std::fill(g.begin() + 2 * 3 * H * W, g.end(), -0.75f);  // image 2: constant
  const std::vector<uint8_t> got =
      cuda::gradient_pictures(Tensor::from_vector(Shape{N, 3, H, W}, g).to(Device::CUDA)).copy_to_host();
  ASSERT_EQ(static_cast<int64_t>(got.size()), N * H * W * 3);
  for (int64_t n = 0; n < N; ++n) {
    const image::Image want = cam::gradient_picture(g.data() + n * 3 * H * W, H, W);
    for (int64_t i = 0; i < H * W * 3; ++i)
      ASSERT_LE(std::abs(int(got[n * H * W * 3 + i]) - int(want.rgb[i])), 1) << "image " << n << ", byte " << i;
  }
  for (int64_t i = 2 * H * W * 3; i < N * H * W * 3; ++i) ASSERT_EQ(got[i], 128) << "byte " << i;
  std::vector<float> maps = random_normal(Shape{2, H, W}, 62, 0.5f).to_vector();
  for (float& v : maps) v += 0.5f;
  const std::vector<image::Image> heat = cam::heatmaps(Tensor::from_vector(Shape{2, H, W}, maps).to(Device::CUDA),
                                                       cam::Colormap::Hot);
  for (int64_t n = 0; n < 2; ++n) {
    const image::Image want = cam::heatmap(maps.data() + n * H * W, H, W, cam::Colormap::Hot);
    ASSERT_EQ(heat[n].rgb.size(), want.rgb.size());
    for (size_t i = 0; i < want.rgb.size(); ++i)
      ASSERT_LE(std::abs(int(heat[n].rgb[i]) - int(want.rgb[i])), 1) << "image " << n << ", byte " << i;
  }
}

// On the GPU, cam::explain with maps_to_host and gradients_to_host off leaves its tensors there and
// brings back the same boxes and pictures as with them on; those are the CPU functions' of the tensors.
TEST(CudaExplain, CanLeaveItsTensorsOnTheDevice) {
  REQUIRE_GPU();
  auto model = resnet18_on_gpu(23);
  const int64_t N = 2, H = 64, W = 80;
  const std::vector<image::Image> pictures = patterned_pictures(N, H, W, 13);
  const Tensor x = random_normal(Shape{N, 3, H, W}, 63).to(Device::CUDA);
  cam::ExplainOptions options;
  options.pictures = {&pictures, cam::Colormap::Jet, 0.5f};
  options.counterfactual = options.guided = options.deconvnet = true;
  const cam::BatchExplanation on_host = cam::explain(*model, x, {{-1}, {-2}}, options);
  options.maps_to_host = options.gradients_to_host = false;
  const cam::BatchExplanation kept = cam::explain(*model, x, {{-1}, {-2}}, options);
  for (int64_t n = 0; n < N; ++n) {
    SCOPED_TRACE("image " + std::to_string(n));
    const cam::Explanation &a = on_host.images[n][0], &b = kept.images[n][0];
    for (const Tensor* t : {&b.map, &b.raw_map, &b.counterfactual, &b.guided, &b.guided_gradcam, &b.deconvnet})
      EXPECT_EQ(t->device(), Device::CUDA);
    for (const Tensor* t : {&a.map, &a.raw_map, &a.counterfactual, &a.guided, &a.guided_gradcam, &a.deconvnet})
      EXPECT_EQ(t->device(), Device::CPU);
    EXPECT_TRUE(b.alpha.empty());
    EXPECT_EQ(static_cast<int64_t>(a.alpha.size()), 512);
    EXPECT_EQ(a.class_index, b.class_index);
    const cam::Box want = cam::localize(a.map.data(), H, W);
    EXPECT_TRUE(test::same_box(a.box, want));
    EXPECT_TRUE(test::same_box(b.box, want));
    EXPECT_EQ(a.heatmap.rgb, b.heatmap.rgb);
    EXPECT_EQ(a.overlay.rgb, b.overlay.rgb);
    EXPECT_EQ(a.counterfactual_heatmap.rgb, b.counterfactual_heatmap.rgb);
    EXPECT_EQ(a.guided_picture.rgb, b.guided_picture.rgb);
    EXPECT_EQ(a.guided_gradcam_picture.rgb, b.guided_gradcam_picture.rgb);
    EXPECT_EQ(a.deconvnet_picture.rgb, b.deconvnet_picture.rgb);
    const std::pair<const image::Image*, image::Image> made[] = {
        {&a.counterfactual_heatmap, cam::heatmap(a.counterfactual.data(), H, W, cam::Colormap::Jet)},
        {&a.guided_picture, cam::gradient_picture(a.guided.data(), H, W)},
        {&a.guided_gradcam_picture, cam::gradient_picture(a.guided_gradcam.data(), H, W)},
        {&a.deconvnet_picture, cam::gradient_picture(a.deconvnet.data(), H, W)}};
    for (const auto& [got, want_picture] : made) {
      ASSERT_EQ(got->rgb.size(), want_picture.rgb.size());
      for (size_t i = 0; i < want_picture.rgb.size(); ++i)
        ASSERT_LE(std::abs(int(got->rgb[i]) - int(want_picture.rgb[i])), 1) << "byte " << i;
    }
  }
}

// The boxes found on the device (kernels/localize.cu) are cam::localize's, map by map, on the cases the
// CPU threads race through in test_component_steps.cpp; a batch of no maps gives no boxes.
TEST(CudaCam, BoxesEqualTheCpu) {
  REQUIRE_GPU();
  for (const test::BoxCase& c : test::box_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor maps = Tensor::from_vector(Shape{c.images(), c.height, c.width}, c.maps).to(Device::CUDA);
    for (int round = 0; round < 3; ++round) {
      const std::vector<cam::Box> got = cuda::boxes_to_host(cuda::localize(maps, c.threshold));
      ASSERT_EQ(static_cast<int64_t>(got.size()), c.images());
      for (int64_t n = 0; n < c.images(); ++n) {
        const cam::Box want = cam::localize(c.maps.data() + n * c.height * c.width, c.height, c.width, c.threshold);
        EXPECT_TRUE(test::same_box(got[n], want)) << "image " << n;
      }
    }
  }
  EXPECT_TRUE(cuda::boxes_to_host(cuda::localize(Tensor::empty(Shape{0, 7, 7}, Device::CUDA))).empty());
}

}  // namespace
}  // namespace gcam

namespace gcam {
namespace {

// The graph replays what cam::explain computes, for whatever input it is given (it reads its fixed
// input buffer on every replay), with classes chosen on the device or given, and allocates nothing
// once captured.
TEST(CudaGraph, ReplaysEqualExplainForNewInputs) {
  REQUIRE_GPU();
  auto model = resnet18_on_gpu(21);
  const int64_t N = 2, H = 96, W = 128;
  cam::GradcamGraph graph(*model, N, H, W);
  for (unsigned seed : {1u, 2u}) {
    SCOPED_TRACE("input " + std::to_string(seed));
    const Tensor x = random_normal(Shape{N, 3, H, W}, seed);
    for (const std::vector<int64_t>& classes : {std::vector<int64_t>{}, std::vector<int64_t>{7, -1}}) {
      const cam::GradcamGraph::Result r = graph.run(x, classes);
      std::vector<std::vector<int64_t>> targets = {{classes.empty() ? -1 : classes[0]}, {-1}};
      const cam::BatchExplanation e = cam::explain(*model, x.to(Device::CUDA), targets, {});
      EXPECT_TRUE(test::near_relative(r.logits, e.logits, 1e-6));
      for (int64_t n = 0; n < N; ++n) {
        EXPECT_EQ(r.classes[n], e.images[n][0].class_index);
        EXPECT_EQ(r.all_zero[n], e.images[n][0].map_all_zero);
        const Tensor map = Tensor::from_vector(Shape{H, W}, std::vector<float>(r.maps.data() + n * H * W,
                                                                               r.maps.data() + (n + 1) * H * W));
        EXPECT_TRUE(test::near_relative(map, e.images[n][0].map, 1e-5)) << "image " << n;
        // Found in the graph, from these maps.
        EXPECT_TRUE(test::same_box(r.boxes[n], cam::localize(map.data(), H, W))) << "image " << n;
      }
      const cam::GradcamGraph::Result without = graph.run(x, classes, /*maps_to_host=*/false);
      EXPECT_FALSE(without.maps.defined());
      for (int64_t n = 0; n < N; ++n) EXPECT_TRUE(test::same_box(without.boxes[n], r.boxes[n]));
    }
  }
  // With pictures, both paths colour their maps on the device: the bytes are gcam/colormap.h's of the
  // maps they return, to within one unit (the CPU's and the GPU's float contraction may differ).
  const std::vector<image::Image> pictures = patterned_pictures(N, H, W, 31);
  const cam::Pictures asked{&pictures, cam::Colormap::Jet, 0.6f};
  const Tensor x = random_normal(Shape{N, 3, H, W}, 5);
  cam::ExplainOptions options;
  options.pictures = asked;
  for (const cam::BatchExplanation& e : {graph.explain(x, {}, asked),
                                        cam::explain(*model, x.to(Device::CUDA), {{-1}, {-1}}, options)})
    for (int64_t n = 0; n < N; ++n) {
      const cam::Explanation& one = e.images[n][0];
      const image::Image heat = cam::heatmap(one.map.data(), H, W, cam::Colormap::Jet);
      const image::Image overlay = cam::overlay(pictures[n], one.map.data(), cam::Colormap::Jet, 0.6f);
      ASSERT_EQ(one.heatmap.rgb.size(), heat.rgb.size());
      ASSERT_EQ(one.overlay.rgb.size(), overlay.rgb.size());
      for (size_t i = 0; i < heat.rgb.size(); ++i) {
        ASSERT_LE(std::abs(int(one.heatmap.rgb[i]) - int(heat.rgb[i])), 1) << "image " << n << ", heat byte " << i;
        ASSERT_LE(std::abs(int(one.overlay.rgb[i]) - int(overlay.rgb[i])), 1) << "image " << n << ", byte " << i;
      }
    }
  // The explain calls above allocate in the ordinary pool; the replays themselves allocate nothing.
  const CudaMemoryStats before = cuda_memory_stats();
  graph.run(random_normal(Shape{N, 3, H, W}, 3));
  EXPECT_EQ(cuda_memory_stats().device_allocations, before.device_allocations);
  EXPECT_THROW(graph.run(random_normal(Shape{N + 1, 3, H, W}, 4)), InputError);  // the captured shape only
  // A graph that draws the pictures in its upsampling launch gives the bytes that colouring the replay's
  // maps afterwards gives, and without maps_to_host no map.
  cam::GradcamGraph drawing(*model, N, H, W, "", cam::GraphPictures{true, cam::Colormap::Jet, 0.6f});
  const cam::BatchExplanation in_graph = drawing.explain(x, {}, asked, false), after = graph.explain(x, {}, asked);
  for (int64_t n = 0; n < N; ++n) {
    const cam::Explanation &a = in_graph.images[n][0], &b = after.images[n][0];
    EXPECT_FALSE(a.map.defined());
    EXPECT_EQ(a.class_index, b.class_index);
    EXPECT_TRUE(test::same_box(a.box, b.box)) << "image " << n;
    EXPECT_EQ(a.heatmap.rgb, b.heatmap.rgb) << "image " << n;
    EXPECT_EQ(a.overlay.rgb, b.overlay.rgb) << "image " << n;
  }
}

// Every byte of two pictures within one unit (the maps behind them may differ in their last bits).
void expect_bytes_within_one(const image::Image& got, const image::Image& want, const std::string& what) {
  ASSERT_EQ(got.rgb.size(), want.rgb.size()) << what;
  for (size_t i = 0; i < want.rgb.size(); ++i)
    ASSERT_LE(std::abs(int(got.rgb[i]) - int(want.rgb[i])), 1) << what << ", byte " << i;
}

// With guided backprop in the graph (explain's default methods in one replay), each replay gives what
// cam::explain gives on the device for the same input and classes: the maps, the guided gradients,
// Guided Grad-CAM, the boxes and every picture; the gradients stay on the device unless asked, and the
// replays allocate nothing.
TEST(CudaGraph, GuidedBackpropInTheGraphEqualsExplain) {
  REQUIRE_GPU();
  auto model = resnet18_on_gpu(25);
  const int64_t N = 2, H = 64, W = 96;
  const std::vector<image::Image> pictures = patterned_pictures(N, H, W, 17);
  const cam::Pictures asked{&pictures, cam::Colormap::Jet, 0.5f};
  cam::GradcamGraph drawing(*model, N, H, W, "", cam::GraphPictures{true, cam::Colormap::Jet, 0.5f},
                            cam::GraphMethods{true});
  cam::GradcamGraph plain(*model, N, H, W, "", {}, cam::GraphMethods{true});  // pictures made after the replay
  cam::ExplainOptions options;
  options.guided = true;
  options.pictures = asked;
  for (unsigned seed : {8u, 9u}) {
    SCOPED_TRACE("input " + std::to_string(seed));
    const Tensor x = random_normal(Shape{N, 3, H, W}, seed);
    const std::vector<int64_t> classes = {seed == 8u ? -1 : 5, -1};
    const cam::BatchExplanation want =
        cam::explain(*model, x.to(Device::CUDA), {{classes[0]}, {classes[1]}}, options);
    for (cam::GradcamGraph* graph : {&drawing, &plain}) {
      SCOPED_TRACE(graph == &drawing ? "drawn in the graph" : "pictures after the replay");
      const cam::BatchExplanation got = graph->explain(x, classes, asked);
      for (int64_t n = 0; n < N; ++n) {
        SCOPED_TRACE("image " + std::to_string(n));
        const cam::Explanation &g = got.images[n][0], &e = want.images[n][0];
        EXPECT_EQ(g.class_index, e.class_index);
        EXPECT_TRUE(test::near_relative(g.map, e.map, 1e-5));
        EXPECT_TRUE(test::near_relative(g.guided, e.guided, 1e-5));
        EXPECT_TRUE(test::near_relative(g.guided_gradcam, e.guided_gradcam, 1e-5));
        EXPECT_TRUE(test::same_box(g.box, e.box));
        expect_bytes_within_one(g.heatmap, e.heatmap, "heatmap");
        expect_bytes_within_one(g.overlay, e.overlay, "overlay");
        expect_bytes_within_one(g.guided_picture, e.guided_picture, "guided picture");
        expect_bytes_within_one(g.guided_gradcam_picture, e.guided_gradcam_picture, "Guided Grad-CAM picture");
      }
    }
  }
  // Left on the device: no map and no gradient come back, the same pictures do.
  const Tensor x = random_normal(Shape{N, 3, H, W}, 10);
  const cam::BatchExplanation all = drawing.explain(x, {}, asked);
  const CudaMemoryStats before = cuda_memory_stats();
  const cam::BatchExplanation kept = drawing.explain(x, {}, asked, /*maps_to_host=*/false, /*gradients_to_host=*/false);
  EXPECT_EQ(cuda_memory_stats().device_allocations, before.device_allocations);
  for (int64_t n = 0; n < N; ++n) {
    const cam::Explanation &a = all.images[n][0], &k = kept.images[n][0];
    EXPECT_FALSE(k.map.defined());
    EXPECT_FALSE(k.guided.defined());
    EXPECT_FALSE(k.guided_gradcam.defined());
    EXPECT_EQ(k.guided_picture.rgb, a.guided_picture.rgb);
    EXPECT_EQ(k.guided_gradcam_picture.rgb, a.guided_gradcam_picture.rgb);
    EXPECT_EQ(k.overlay.rgb, a.overlay.rgb);
  }
}

// The clustered reduction (kernels/gradcam_clustered.cu) by the checks of the other kernels, loading
// through its warps (Warps/CudaClustered.*) and by bulk copies (Bulk/CudaClustered.*). GoogleTest
// registers parameterized tests after the plain ones, so these run last, and in that order: a kernel
// fault would stop every test after it in the same process (gpu_check runs each instance on its own).
// Where the GPU has no clusters the kernel falls back to the streamed one; EachKernelTakesOnlyTheShapesItFits
// says when. On kReductionShapes the bulk kernel's own cut takes the bulk copies on both target layers, the
// 9×14×16 and 64×1×1 shapes and the 16×7×7 shape's cut of all 16 channels, and falls back to the warps'
// loads on the 5×3×11 shape and the 7×7 shapes' odd cuts; the zero-map check's 6×6 shape takes them too.
// Every check's trace says which kernel ran.
class CudaClustered : public ::testing::TestWithParam<cuda::Reduction> {};

TEST_P(CudaClustered, ReductionEqualsTheCpuFunctions) {
  REQUIRE_GPU();
  expect_reduction_equals_the_cpu(GetParam());
}

TEST_P(CudaClustered, ReductionEqualsTheUnfusedOps) {
  REQUIRE_GPU();
  expect_reduction_equals_the_unfused_ops(GetParam());
}

TEST_P(CudaClustered, ReductionIsDeterministic) {
  REQUIRE_GPU();
  expect_deterministic(GetParam());
}

TEST_P(CudaClustered, ReductionFlagsZeroMapsNeverNan) {
  REQUIRE_GPU();
  expect_zero_maps_flagged_never_nan(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Warps, CudaClustered, ::testing::Values(cuda::Reduction::Clustered));
INSTANTIATE_TEST_SUITE_P(Bulk, CudaClustered, ::testing::Values(cuda::Reduction::ClusteredBulk));

}  // namespace
}  // namespace gcam
