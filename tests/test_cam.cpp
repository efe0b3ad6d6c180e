// The explanation pieces on inputs whose answers are known by hand: channel weights, the ReLU of the
// weighted sum, normalisation (and the all-zero case), half-pixel bilinear upsampling, the paper's box,
// colour maps (and the explanation pass colouring its maps onto given pictures), and the .npy file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <random>
#include <utility>

#include "gcam/cam.h"
#include "gcam/colormap.h"
#include "gcam/error.h"
#include "gcam/explain.h"
#include "gcam/image.h"
#include "gcam/models.h"
#include "support/archive.h"
#include "support/compare.h"
#include "support/gradcam_by_ops.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

TEST(Cam, ChannelWeightsAreSpatialMeansAndTheMapIsTheirReluWeightedSum) {
  // Two channels of 2×2: ∂y/∂A = [[1,2],[3,6]] and [[−4,0],[0,0]] → α = (3, −1).
  const Tensor grad = Tensor::from_vector(Shape{1, 2, 2, 2}, {1, 2, 3, 6, -4, 0, 0, 0});
  const Tensor alpha = cam::channel_weights(grad);
  EXPECT_TRUE(test::equal_exactly(alpha, {3.0f, -1.0f}));
  const Tensor A = Tensor::from_vector(Shape{1, 2, 2, 2}, {1, 0, 2, 1, 1, 1, 9, 1});
  // 3·A0 − A1 = [[2, −1], [−3, 2]] → ReLU → [[2, 0], [0, 2]]; counterfactual: ReLU(−that) = [[0,1],[3,0]].
  EXPECT_TRUE(test::equal_exactly(cam::weighted_map(A, alpha), {2, 0, 0, 2}));
  EXPECT_TRUE(test::equal_exactly(cam::weighted_map(A, alpha, true), {0, 1, 3, 0}));
}

TEST(Cam, AllZeroMapsStayZeroAndAreReportedNeverNaN) {
  const Tensor A = Tensor::full(Shape{2, 3, 4, 4}, 1.0f);
  const Tensor alpha = Tensor::from_vector(Shape{2, 3}, {-1, -2, -3, 1, 0, 0});  // image 0: Σ < 0 everywhere
  Tensor map = cam::weighted_map(A, alpha);
  std::vector<bool> zero;
  cam::normalize_maps(map, &zero);
  EXPECT_EQ(zero, (std::vector<bool>{true, false}));
  for (int64_t i = 0; i < 16; ++i) EXPECT_EQ(map.data()[i], 0.0f);
  const Tensor up = cam::upsample_bilinear(map, 9, 9);
  for (int64_t i = 0; i < 81; ++i) ASSERT_EQ(up.data()[i], 0.0f) << i;
  EXPECT_TRUE(cam::localize(up.data(), 9, 9).empty);
  for (int64_t i = 0; i < up.numel(); ++i) ASSERT_FALSE(std::isnan(up.data()[i]));
}

// The unfused composition of gcam's ops that the fused GPU kernels are also held to (pooling, a grouped
// 1×1 convolution, ReLU: support/gradcam_by_ops.h) gives the cam:: functions' α, raw map and normalised
// map, for the target layers' shapes and an odd one, with the counterfactual, and on a batch whose first
// map is zero everywhere (its gradients all negative on positive activations; the second's all positive).
TEST(Cam, GradcamByOpsEqualsTheCamFunctions) {
  std::vector<std::pair<Tensor, Tensor>> cases;  // (A, ∂y/∂A)
  for (const Shape& s : {Shape{3, 2048, 7, 7}, Shape{2, 512, 14, 14}, Shape{2, 5, 3, 11}}) {
    std::vector<float> a = test::random_normal(s, 10).to_vector();
    for (float& v : a) v = std::fabs(v);  // activations after a ReLU are ≥ 0
    cases.emplace_back(Tensor::from_vector(s, a), test::random_normal(s, 20, 0.01f));
  }
  std::vector<float> gradients = test::random_normal(Shape{2, 3, 4, 4}, 30).to_vector();
  for (size_t i = 0; i < gradients.size(); ++i)  // image 0 all negative, image 1 all positive
    gradients[i] = i < 48 ? -std::fabs(gradients[i]) : std::fabs(gradients[i]);
  cases.emplace_back(Tensor::full(Shape{2, 3, 4, 4}, 1.0f), Tensor::from_vector(Shape{2, 3, 4, 4}, gradients));
  for (const auto& [A, dA] : cases)
    for (bool counterfactual : {false, true}) {
      SCOPED_TRACE(A.shape().str() + (counterfactual ? ", counterfactual" : ""));
      const test::MapsByOps by_ops = test::gradcam_by_ops(A, dA, counterfactual);
      const Tensor alpha = cam::channel_weights(dA), raw = cam::weighted_map(A, alpha, counterfactual);
      Tensor map = raw.clone();
      std::vector<bool> zero;
      cam::normalize_maps(map, &zero);
      EXPECT_TRUE(test::near_relative(by_ops.alpha, alpha, 1e-5));
      EXPECT_TRUE(test::near_relative(by_ops.raw, raw, 1e-5));
      const std::vector<float> got = by_ops.map.to_vector(), want = map.to_vector();
      for (size_t k = 0; k < got.size(); ++k) ASSERT_NEAR(got[k], want[k], 1e-4) << "pixel " << k;
      EXPECT_EQ(by_ops.all_zero, zero);
    }
  for (bool counterfactual : {false, true})  // the counterfactual swaps which map is empty
    EXPECT_EQ(test::gradcam_by_ops(cases.back().first, cases.back().second, counterfactual).all_zero,
              (std::vector<bool>{!counterfactual, counterfactual}));
}

TEST(Cam, NormalisationIsPerImageMinMax) {
  Tensor maps = Tensor::from_vector(Shape{2, 1, 3}, {1, 2, 3, 0, 0, 10});
  cam::normalize_maps(maps, nullptr);
  const std::vector<float> v = maps.to_vector();
  EXPECT_NEAR(v[0], 0.0f, 1e-6);
  EXPECT_NEAR(v[1], 0.5f, 1e-6);
  EXPECT_NEAR(v[2], 1.0f, 1e-6);
  EXPECT_NEAR(v[5], 1.0f, 1e-6);
}

TEST(Cam, BilinearUpsamplingUsesHalfPixelCentres) {
  // 1×2 → 1×4: source x = (o + ½)·½ − ½ = −¼ (clamped 0), ¼, ¾, 1¼ (clamped to the last pixel).
  const Tensor in = Tensor::from_vector(Shape{1, 1, 2}, {0.0f, 4.0f});
  EXPECT_TRUE(test::equal_exactly(cam::upsample_bilinear(in, 1, 4), {0.0f, 1.0f, 3.0f, 4.0f}));
  const Tensor same = Tensor::from_vector(Shape{1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(test::equal_exactly(cam::upsample_bilinear(same, 2, 2), {1, 2, 3, 4}));
}

TEST(Cam, TheBoxIsTheLargestComponentAboveFifteenPercent) {
  std::vector<float> map(10 * 12, 0.0f);
  auto set = [&](int y, int x, float v) { map[y * 12 + x] = v; };
  for (int y = 1; y <= 3; ++y) set(y, 1, 1.0f);                      // a 3-pixel column with the maximum
  for (int y = 5; y <= 8; ++y)
    for (int x = 6; x <= 10; ++x) set(y, x, 0.5f);                   // a 20-pixel block: the largest
  set(9, 11, 0.2f);                                                  // touches the block diagonally
  set(0, 11, 0.1f);                                                  // under 15% of the maximum
  const cam::Box box = cam::localize(map.data(), 10, 12);
  ASSERT_FALSE(box.empty);
  EXPECT_EQ(box.x0, 6);
  EXPECT_EQ(box.y0, 5);
  EXPECT_EQ(box.x1, 11);
  EXPECT_EQ(box.y1, 9);
}

// The reference for localize: a plain flood fill from every unlabelled pixel in raster order, each
// pixel's eight neighbours visited (the implementation it replaced; localize works on runs instead).
cam::Box flood_fill_box(const std::vector<float>& map, int64_t height, int64_t width, float threshold) {
  const float peak = *std::max_element(map.begin(), map.end());
  cam::Box best;
  if (!(peak > 0.0f)) return best;
  const float cut = threshold * peak;
  auto inside = [&](int64_t i) { return map[i] >= cut; };
  std::vector<bool> seen(map.size(), false);
  int64_t best_size = 0;
  for (int64_t start = 0; start < height * width; ++start) {
    if (!inside(start) || seen[start]) continue;
    seen[start] = true;
    std::vector<int64_t> stack{start};
    cam::Box box{start % width, start / width, start % width, start / width, false};
    int64_t size = 0;
    while (!stack.empty()) {
      const int64_t at = stack.back(), y = at / width, x = at % width;
      stack.pop_back();
      ++size;
      box.x0 = std::min(box.x0, x), box.x1 = std::max(box.x1, x);
      box.y0 = std::min(box.y0, y), box.y1 = std::max(box.y1, y);
      for (int64_t ny = y - 1; ny <= y + 1; ++ny)
        for (int64_t nx = x - 1; nx <= x + 1; ++nx)
          if (ny >= 0 && ny < height && nx >= 0 && nx < width && inside(ny * width + nx) && !seen[ny * width + nx])
            seen[ny * width + nx] = true, stack.push_back(ny * width + nx);
    }
    if (size > best_size) best_size = size, best = box;  // the first of equal sizes stays
  }
  return best;
}

TEST(Cam, TheBoxEqualsAFloodFillOnRandomMaps) {
  // Speckle (each pixel above the cut with probability q: many components, spirals of diagonal
  // links, equal sizes) and smooth maps (a few large blobs), on shapes from one pixel to 224×224.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  int cases = 0;
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {1, 9}, {9, 1}, {2, 2}, {5, 7},
                                                                     {16, 16}, {31, 17}, {64, 64}, {224, 224}})
    for (float q : {0.1f, 0.35f, 0.6f, 0.9f})
      for (int trial = 0; trial < 6; ++trial, ++cases) {
        std::vector<float> map(static_cast<size_t>(h * w));
        if (trial % 2 == 0) {
          for (float& v : map) v = u(rng) < q ? 0.5f + u(rng) : 0.1f * u(rng);
        } else {  // smooth: a 4×4 random grid, bilinearly upsampled
          Tensor grid = Tensor::empty(Shape{1, 4, 4});
          for (int64_t i = 0; i < grid.numel(); ++i) grid.data()[i] = u(rng);
          const Tensor up = cam::upsample_bilinear(grid, h, w);
          std::copy(up.data(), up.data() + up.numel(), map.begin());
        }
        const float threshold = trial % 2 == 0 ? 0.15f : q;
        SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + " q=" + std::to_string(q) + " trial " +
                     std::to_string(trial));
        const cam::Box want = flood_fill_box(map, h, w, threshold);
        const cam::Box got = cam::localize(map.data(), h, w, threshold);
        ASSERT_EQ(got.empty, want.empty);
        EXPECT_EQ(got.x0, want.x0);
        EXPECT_EQ(got.y0, want.y0);
        EXPECT_EQ(got.x1, want.x1);
        EXPECT_EQ(got.y1, want.y1);
      }
  // Two blobs of the same size: the one met first in raster order wins, wherever its columns are.
  std::vector<float> map(6 * 8, 0.0f);
  for (int64_t x : {5, 6}) map[1 * 8 + x] = map[2 * 8 + x] = 1.0f;  // right blob, rows 1–2
  for (int64_t x : {0, 1}) map[2 * 8 + x] = map[3 * 8 + x] = 1.0f;  // left blob, rows 2–3
  const cam::Box tie = cam::localize(map.data(), 6, 8);
  EXPECT_EQ(tie.x0, 5);
  EXPECT_EQ(tie.y0, 1);
}

TEST(Cam, ColormapsAndOverlay) {
  EXPECT_EQ(cam::colorize(cam::Colormap::Jet, 0.0f), (std::array<uint8_t, 3>{0, 0, 128}));    // dark blue
  EXPECT_EQ(cam::colorize(cam::Colormap::Jet, 1.0f), (std::array<uint8_t, 3>{128, 0, 0}));    // dark red
  EXPECT_EQ(cam::colorize(cam::Colormap::Jet, 0.5f), (std::array<uint8_t, 3>{128, 255, 128}));
  EXPECT_EQ(cam::colorize(cam::Colormap::Gray, 2.0f), (std::array<uint8_t, 3>{255, 255, 255}));  // clamped
  EXPECT_EQ(cam::colorize(cam::Colormap::Hot, NAN), (std::array<uint8_t, 3>{0, 0, 0}));
  image::Image picture{1, 1, {100, 200, 50}};
  const float v = 0.0f;
  const image::Image blend = cam::overlay(picture, &v, cam::Colormap::Gray, 0.5f);
  EXPECT_EQ(blend.rgb, (std::vector<uint8_t>{50, 100, 25}));
}

// heatmap and overlay (one loop per colour map, rounding inline) give exactly the bytes of the reference
// colorize (std::lround) — on values that land on every rounding boundary (k/510 puts v·255 on the
// halves), just beside them, and outside [0, 1] or NaN; for every colour map and several blends.
TEST(Cam, HeatmapAndOverlayEqualTheReferenceColours) {
  std::vector<float> values;
  for (int k = 0; k <= 2040; ++k) {
    const float v = k / 2040.0f;
    values.insert(values.end(), {v, std::nextafter(v, 0.0f), std::nextafter(v, 1.0f)});
  }
  for (int k = 0; k <= 510; ++k) values.push_back(k / 510.0f);
  values.insert(values.end(), {-1.0f, 2.0f, NAN, INFINITY, -INFINITY, 1e-30f});
  const int64_t n = static_cast<int64_t>(values.size());
  image::Image picture{n, 1, std::vector<uint8_t>(static_cast<size_t>(3 * n))};
  for (int64_t i = 0; i < 3 * n; ++i) picture.rgb[i] = static_cast<uint8_t>((i * 37) % 256);
  for (cam::Colormap map : {cam::Colormap::Jet, cam::Colormap::Hot, cam::Colormap::Cool, cam::Colormap::Gray}) {
    const image::Image heat = cam::heatmap(values.data(), 1, n, map);
    for (float alpha : {0.0f, 0.3f, 0.5f, 1.0f}) {
      const image::Image blend = cam::overlay(picture, values.data(), map, alpha);
      for (int64_t i = 0; i < n; ++i) {
        const auto c = cam::colorize(map, values[i]);
        for (int ch = 0; ch < 3; ++ch) {
          ASSERT_EQ(heat.rgb[3 * i + ch], c[ch]) << "map " << int(map) << " v " << values[i];
          const uint8_t expected =
              static_cast<uint8_t>(std::lround(std::fma(alpha, float(c[ch]), (1.0f - alpha) * picture.rgb[3 * i + ch])));
          ASSERT_EQ(blend.rgb[3 * i + ch], expected) << "map " << int(map) << " v " << values[i] << " alpha " << alpha;
        }
      }
    }
  }
}

// Mean 0 and standard deviation 1: ±1 become 0.5 ± 0.1 (bytes 153 and 102), channel planes interleaved
// into pixels; a constant gradient is all grey (0.5: 127.5 rounds up).
TEST(Cam, GradientPictureIsGreyPlusATenthPerStandardDeviation) {
  const std::vector<float> g = {1, -1, /* green */ -1, 1, /* blue */ 1, -1};  // (3, 1, 2)
  const image::Image picture = cam::gradient_picture(g.data(), 1, 2);
  EXPECT_EQ(picture.width, 2);
  EXPECT_EQ(picture.height, 1);
  EXPECT_EQ(picture.rgb, (std::vector<uint8_t>{153, 102, 153, 102, 153, 102}));
  const std::vector<float> flat(6, 3.5f);
  EXPECT_EQ(cam::gradient_picture(flat.data(), 1, 2).rgb, std::vector<uint8_t>(6, 128));
}

// With pictures, the explanation pass makes every picture of what is asked, top-k round by round: the
// heatmap and overlay are gcam/colormap.h's of the map it returns, on that image's picture; the
// counterfactual's heatmap and the gradients' pictures are those of the tensors it returns. Pictures
// that do not match the batch are an error before any work.
TEST(Cam, ExplainColoursEachMapOntoItsPicture) {
  auto model = models::make_model("resnet18");
  model->initialize(3);
  const int64_t N = 2, H = 40, W = 56;
  std::mt19937 rng(4);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(N * 3 * H * W));
  for (float& v : x) v = normal(rng);
  std::vector<image::Image> pictures(N);
  for (int64_t n = 0; n < N; ++n) {
    pictures[n] = {W, H, std::vector<uint8_t>(static_cast<size_t>(H * W * 3))};
    for (uint8_t& b : pictures[n].rgb) b = static_cast<uint8_t>(rng());
  }
  cam::ExplainOptions options;
  options.pictures = {&pictures, cam::Colormap::Hot, 0.3f};
  options.counterfactual = options.guided = options.deconvnet = true;
  const cam::BatchExplanation result =
      cam::explain(*model, Tensor::from_vector(Shape{N, 3, H, W}, x), {{-1, -2}, {-1, -2}}, options);
  for (int64_t n = 0; n < N; ++n)
    for (const cam::Explanation& e : result.images[n]) {
      SCOPED_TRACE("image " + std::to_string(n) + ", class " + std::to_string(e.class_index));
      const image::Image heat = cam::heatmap(e.map.data(), H, W, cam::Colormap::Hot);
      const image::Image overlay = cam::overlay(pictures[n], e.map.data(), cam::Colormap::Hot, 0.3f);
      EXPECT_EQ(e.heatmap.width, W);
      EXPECT_EQ(e.heatmap.height, H);
      EXPECT_EQ(e.heatmap.rgb, heat.rgb);
      EXPECT_EQ(e.overlay.rgb, overlay.rgb);
      EXPECT_EQ(e.counterfactual_heatmap.rgb, cam::heatmap(e.counterfactual.data(), H, W, cam::Colormap::Hot).rgb);
      EXPECT_EQ(e.guided_picture.rgb, cam::gradient_picture(e.guided.data(), H, W).rgb);
      EXPECT_EQ(e.guided_gradcam_picture.rgb, cam::gradient_picture(e.guided_gradcam.data(), H, W).rgb);
      EXPECT_EQ(e.deconvnet_picture.rgb, cam::gradient_picture(e.deconvnet.data(), H, W).rgb);
      EXPECT_NE(e.guided_picture.rgb, e.deconvnet_picture.rgb);  // two different gradients
    }
  options.pictures.images = nullptr;  // none asked: none made
  const cam::Explanation none =
      cam::explain(*model, Tensor::from_vector(Shape{N, 3, H, W}, x), {{-1}, {-1}}, options).images[0][0];
  EXPECT_TRUE(none.heatmap.rgb.empty());
  EXPECT_TRUE(none.counterfactual_heatmap.rgb.empty());
  EXPECT_TRUE(none.guided_picture.rgb.empty());
  EXPECT_TRUE(none.guided_gradcam_picture.rgb.empty());
  EXPECT_TRUE(none.deconvnet_picture.rgb.empty());
  std::vector<image::Image> one(pictures.begin(), pictures.begin() + 1);
  options.pictures.images = &one;
  EXPECT_THROW(cam::explain(*model, Tensor::from_vector(Shape{N, 3, H, W}, x), {{-1}, {-1}}, options), InputError);
  std::vector<image::Image> small = pictures;
  small[1] = {W - 1, H, std::vector<uint8_t>(static_cast<size_t>(H * (W - 1) * 3))};
  options.pictures.images = &small;
  EXPECT_THROW(cam::explain(*model, Tensor::from_vector(Shape{N, 3, H, W}, x), {{-1}, {-1}}, options), InputError);
}

TEST(Cam, NpyFilesCarryShapeAndFloat32Data) {
  const std::string path = (std::filesystem::temp_directory_path() / "gcam_test_map.npy").string();
  const std::vector<float> values = {0.0f, 0.25f, 0.5f, 1.0f, -2.0f, 3.5f};
  image::write_npy(path, values.data(), {2, 3});
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  const size_t header = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header) % 64, 0u);
  EXPECT_NE(bytes.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(bytes.find("'shape': (2, 3)"), std::string::npos);
  ASSERT_EQ(bytes.size(), 10 + header + values.size() * 4);
  std::vector<float> back(values.size());
  std::memcpy(back.data(), bytes.data() + 10 + header, back.size() * 4);
  EXPECT_EQ(back, values);
}

// gcam's PNG encoder, decoded again by libpng (an independent decoder): every pixel comes back,
// for shapes where each filter wins somewhere — flat rows (None/Sub), vertical stripes (Up), gradients
// (Average, Paeth), noise — and for widths that are not a multiple of anything (1, 3, 37 pixels).
TEST(Image, PngRoundTripsThroughAnIndependentDecoder) {
  uint32_t state = 12345;
  auto noise = [&] { state = state * 1664525u + 1013904223u; return static_cast<uint8_t>(state >> 24); };
  const std::string path = (std::filesystem::temp_directory_path() / "gcam_test_roundtrip.png").string();
  for (const auto& [w, h] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 2}, {37, 5}, {64, 64}, {224, 224}}) {
    for (int pattern = 0; pattern < 4; ++pattern) {
      image::Image picture{w, h, std::vector<uint8_t>(static_cast<size_t>(w * h * 3))};
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          for (int64_t c = 0; c < 3; ++c) {
            uint8_t& v = picture.rgb[(y * w + x) * 3 + c];
            v = pattern == 0 ? static_cast<uint8_t>(40 * c)                             // flat
              : pattern == 1 ? static_cast<uint8_t>((x * 7 + c * 50) % 256)             // stripes
              : pattern == 2 ? static_cast<uint8_t>((x * 3 + y * 5 + c * 11) % 256)     // gradient
                             : noise();                                                 // noise
          }
      image::write_png(path, picture);
      const image::Image back = image::read_image(path);
      ASSERT_EQ(back.width, w);
      ASSERT_EQ(back.height, h);
      EXPECT_EQ(back.rgb, picture.rgb) << w << "×" << h << " pattern " << pattern;
    }
  }
  std::filesystem::remove(path);
}

TEST(Image, PngStartsWithTheSignatureAndHeader) {
  const image::Image picture{300, 2, std::vector<uint8_t>(300 * 2 * 3, 7)};
  const std::vector<uint8_t> png = image::encode_png(picture);
  ASSERT_GE(png.size(), 33u + 12u + 12u);  // signature, IHDR, IDAT, IEND
  EXPECT_EQ(std::vector<uint8_t>(png.begin(), png.begin() + 8), (std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}));
  EXPECT_EQ(std::string(png.begin() + 12, png.begin() + 16), "IHDR");
  EXPECT_EQ(png[18], 300 >> 8);  // width, big-endian
  EXPECT_EQ(png[19], 300 & 0xff);
  EXPECT_EQ(png[23], 2);          // height
  EXPECT_EQ(png[24], 8);          // 8 bits per sample
  EXPECT_EQ(png[25], 2);          // truecolour
  EXPECT_EQ(std::string(png.end() - 8, png.end() - 4), "IEND");
  EXPECT_THROW(image::encode_png(image::Image{2, 2, std::vector<uint8_t>(5)}), InputError);
}

}  // namespace
}  // namespace gcam
