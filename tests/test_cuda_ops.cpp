// Every CUDA op against the CPU op, forward and backward, on random inputs over the spread of shapes
// and options the CPU tests use; then whole networks (resnet50, vgg16: logits and Grad-CAM's
// gradient), the caching allocator's steady state and the TF32 switch. Each test skips cleanly
// without a GPU.
//
// Tolerances (relative, over the whole tensor, ‖gpu − cpu‖₂ / ‖cpu‖₂): 1e-5 for elementwise and
// reduction ops, 1e-4 for convolutions and matrix products (a different summation order).
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "gcam/explain.h"
#include "gcam/models.h"
#include "gcam/ops.h"
#include "cuda/ops.h"  // internal: the convolution engine switch
#include "support/compare.h"
#include "support/gradcheck.h"

namespace gcam {
namespace {

using test::random_normal;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

constexpr double kElementwise = 1e-5, kProducts = 1e-4;

#define REQUIRE_GPU() \
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device"

struct Pass {
  Tensor y;                   // on the CPU
  std::vector<Tensor> grads;  // d(Σ dy ⊙ y)/d(input i), on the CPU
};

// fn on copies of the inputs on `device`, then the targeted gradient with respect to every input,
// seeded by the same random dy; everything brought back to the host.
Pass run_on(Device device, const std::vector<Tensor>& inputs, const Fn& fn, ReluRule rule) {
  Tape tape;
  std::vector<Tensor> xs;
  // Every input is watched and also requires grad, so that an op's parameters (a convolution's weight,
  // batch norm's scale) keep what their gradients need, as a model's parameters do.
  for (const Tensor& t : inputs) xs.push_back(tape.watch(t.to(device)).set_requires_grad(true));
  const Tensor y = fn(xs);
  const Tensor dy = random_normal(y.shape(), 777).to(device);
  BackwardOptions options;
  options.relu_rule = rule;
  Pass p{y.to(Device::CPU), {}};
  for (const Tensor& g : tape.grad(y, dy, xs, options)) p.grads.push_back(g.to(Device::CPU));
  return p;
}

void expect_gpu_equals_cpu(const std::vector<Tensor>& inputs, const Fn& fn, double tolerance,
                           ReluRule rule = ReluRule::Standard) {
  const Pass cpu = run_on(Device::CPU, inputs, fn, rule);
  const Pass gpu = run_on(Device::CUDA, inputs, fn, rule);
  EXPECT_TRUE(test::near_in_norm(gpu.y, cpu.y, tolerance)) << "forward";
  ASSERT_EQ(gpu.grads.size(), cpu.grads.size());
  for (size_t i = 0; i < cpu.grads.size(); ++i)
    EXPECT_TRUE(test::near_in_norm(gpu.grads[i], cpu.grads[i], tolerance)) << "gradient of input " << i;
}

struct ConvCase {
  Shape x, w;
  ops::Conv2dOptions options;
  bool bias;
};

const std::vector<ConvCase> kConvCases = {
    {Shape{2, 3, 6, 7}, Shape{4, 3, 3, 3}, {1, 1, 1, 1}, true},                // padded
    {Shape{1, 2, 9, 8}, Shape{3, 2, 3, 3}, {2, 1, 1, 1}, false},               // strided
    {Shape{1, 2, 9, 9}, Shape{3, 2, 3, 3}, {1, 2, 2, 1}, true},                // dilated
    {Shape{2, 4, 5, 5}, Shape{6, 2, 3, 3}, {1, 1, 1, 2}, true},                // grouped
    {Shape{2, 8, 7, 7}, Shape{8, 1, 3, 3}, {1, 1, 1, 8}, false},               // depthwise
    {Shape{2, 4, 4, 4}, Shape{5, 4, 1, 1}, {1, 0, 1, 1}, false},               // pointwise
    {Shape{2, 6, 7, 7}, Shape{5, 6, 1, 1}, {2, 0, 1, 1}, true},                // 1×1 strided (ResNet's downsample)
    {Shape{1, 3, 7, 9}, Shape{2, 3, 3, 5}, {Hw(2, 1), Hw(1, 2), 1, 1}, true},  // asymmetric
    {Shape{2, 3, 45, 41}, Shape{64, 3, 7, 7}, {2, 3, 1, 1}, false},            // the ResNet stem
    {Shape{3, 64, 14, 14}, Shape{128, 64, 3, 3}, {1, 1, 1, 1}, true},          // a deep 3×3 layer
    {Shape{1, 512, 7, 7}, Shape{512, 512, 3, 3}, {1, 1, 1, 1}, false},         // ResNet-50's layer4 at batch 1
};

// Sets the convolution engine for one scope, then puts back the automatic choice.
struct EngineScope {
  explicit EngineScope(cuda::ConvEngine e) { cuda::set_conv_engine(e); }
  ~EngineScope() { cuda::set_conv_engine(cuda::ConvEngine::Auto); }
};

void expect_convolutions_equal_the_cpu(const std::vector<ConvCase>& cases) {
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("conv case " + std::to_string(i) + ": x " + cases[i].x.str() + ", w " + cases[i].w.str());
    const ConvCase& c = cases[i];
    std::vector<Tensor> inputs = {random_normal(c.x, 1 + i), random_normal(c.w, 100 + i, 0.5f)};
    if (c.bias) inputs.push_back(random_normal(Shape{c.w[0]}, 200 + i));
    expect_gpu_equals_cpu(inputs, [&](const std::vector<Tensor>& in) {
      return ops::conv2d(in[0], in[1], c.bias ? in[2] : Tensor(), c.options);
    }, kProducts);
  }
}

// The default: each pass and shape by whichever engine the timing picked.
TEST(CudaOps, Conv2dOverOptions) {
  REQUIRE_GPU();
  expect_convolutions_equal_the_cpu(kConvCases);
}

// Each engine on its own, over the same cases, so that neither is left untested by the timing's choice.
TEST(CudaOps, Conv2dByCudnnOnly) {
  REQUIRE_GPU();
  EngineScope scope(cuda::ConvEngine::Cudnn);
  expect_convolutions_equal_the_cpu(kConvCases);
}

TEST(CudaOps, Conv2dByIm2colAndCublas) {
  REQUIRE_GPU();
  EngineScope scope(cuda::ConvEngine::Gemm);
  expect_convolutions_equal_the_cpu(kConvCases);
}

// 29 MB of columns per image: the 64 MB budget takes two images per product, so three images make two
// rounds of im2col + SGEMM (and of SGEMM + col2im), the second with one image.
TEST(CudaOps, Conv2dByIm2colAndCublasInRounds) {
  REQUIRE_GPU();
  EngineScope scope(cuda::ConvEngine::Gemm);
  expect_convolutions_equal_the_cpu({{Shape{3, 64, 112, 112}, Shape{64, 64, 3, 3}, {1, 1, 1, 1}, false}});
}

TEST(CudaOps, Linear) {
  REQUIRE_GPU();
  for (const Shape& x : {Shape{1, 7}, Shape{5, 300}, Shape{64, 2048}}) {
    SCOPED_TRACE(x.str());
    const Shape w{13, x[1]};
    expect_gpu_equals_cpu({random_normal(x, 1), random_normal(w, 2, 0.1f), random_normal(Shape{13}, 3)},
                          [](const std::vector<Tensor>& in) { return ops::linear(in[0], in[1], in[2]); }, kProducts);
    expect_gpu_equals_cpu({random_normal(x, 4), random_normal(w, 5, 0.1f)},
                          [](const std::vector<Tensor>& in) { return ops::linear(in[0], in[1], Tensor()); }, kProducts);
  }
}

TEST(CudaOps, ReluUnderEachRule) {
  REQUIRE_GPU();
  for (ReluRule rule : {ReluRule::Standard, ReluRule::Guided, ReluRule::Deconvnet}) {
    SCOPED_TRACE(relu_rule_name(rule));
    expect_gpu_equals_cpu({random_normal(Shape{3, 5, 7, 9}, 10)},
                          [](const std::vector<Tensor>& in) { return ops::relu(in[0]); }, kElementwise, rule);
  }
  // Exactly at the kink, both devices agree element for element.
  const Tensor kink = Tensor::from_vector(Shape{3}, {-1.0f, 0.0f, 1.0f});
  EXPECT_TRUE(test::equal_exactly(ops::relu(kink.to(Device::CUDA)).to(Device::CPU), {0.0f, 0.0f, 1.0f}));
}

TEST(CudaOps, BatchNormInferenceAndTraining) {
  REQUIRE_GPU();
  for (bool training : {false, true}) {
    for (const Shape& x : {Shape{2, 3, 5, 7}, Shape{8, 64, 14, 14}, Shape{1, 4, 1, 3}}) {
      SCOPED_TRACE(std::string(training ? "training " : "inference ") + x.str());
      const Shape c{x[1]};
      const Tensor mean = random_normal(c, 30, 0.5f);
      std::vector<float> variances = random_normal(c, 31, 0.2f).to_vector();
      for (float& v : variances) v = 0.5f + v * v;  // positive
      const Tensor var_positive = Tensor::from_vector(c, variances);
      ops::BatchNormOptions options;
      options.training = training;
      // Each device updates its own copy of the running statistics; they must agree afterwards too.
      Tensor cpu_mean = mean.clone(), cpu_var = var_positive.clone();
      Tensor gpu_mean = mean.to(Device::CUDA), gpu_var = var_positive.to(Device::CUDA);
      const std::vector<Tensor> inputs = {random_normal(x, 32), random_normal(c, 33), random_normal(c, 34)};
      const Pass cpu = run_on(Device::CPU, inputs, [&](const std::vector<Tensor>& in) {
        return ops::batch_norm(in[0], in[1], in[2], cpu_mean, cpu_var, options);
      }, ReluRule::Standard);
      const Pass gpu = run_on(Device::CUDA, inputs, [&](const std::vector<Tensor>& in) {
        return ops::batch_norm(in[0], in[1], in[2], gpu_mean, gpu_var, options);
      }, ReluRule::Standard);
      EXPECT_TRUE(test::near_in_norm(gpu.y, cpu.y, kElementwise));
      for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(test::near_in_norm(gpu.grads[i], cpu.grads[i], kElementwise)) << i;
      EXPECT_TRUE(test::near_in_norm(gpu_mean.to(Device::CPU), cpu_mean, kElementwise));
      EXPECT_TRUE(test::near_in_norm(gpu_var.to(Device::CPU), cpu_var, kElementwise));
    }
  }
}

TEST(CudaOps, Pooling) {
  REQUIRE_GPU();
  const std::vector<ops::MaxPool2dOptions> max_options = {
      {3, 2, 1, 1, false},  // the ResNet stem's
      {3, 2, 1, 2, true},   // dilated, ceil mode
      {2, 2, 0, 1, true},   // VGG's, on an odd size with ceil mode
  };
  for (size_t i = 0; i < max_options.size(); ++i) {
    SCOPED_TRACE("max pool case " + std::to_string(i));
    expect_gpu_equals_cpu({random_normal(Shape{2, 3, 11, 13}, 40 + i)},
                          [&](const std::vector<Tensor>& in) { return ops::max_pool2d(in[0], max_options[i]); },
                          kElementwise);
  }
  const std::vector<ops::AvgPool2dOptions> avg_options = {
      {3, 2, 1, true, true},
      {Hw(2, 3), Hw(1, 2), Hw(1, 1), true, false},
      {2, 2, 0, false, true},
  };
  for (size_t i = 0; i < avg_options.size(); ++i) {
    SCOPED_TRACE("avg pool case " + std::to_string(i));
    expect_gpu_equals_cpu({random_normal(Shape{2, 3, 9, 10}, 50 + i)},
                          [&](const std::vector<Tensor>& in) { return ops::avg_pool2d(in[0], avg_options[i]); },
                          kElementwise);
  }
  for (const Hw out : {Hw(1, 1), Hw(3, 2), Hw(7, 7), Hw(5, 4)}) {
    SCOPED_TRACE("adaptive " + std::to_string(out.h) + "x" + std::to_string(out.w));
    expect_gpu_equals_cpu({random_normal(Shape{2, 4, 13, 7}, 60)},
                          [&](const std::vector<Tensor>& in) { return ops::adaptive_avg_pool2d(in[0], out); },
                          kElementwise);
  }
}

TEST(CudaOps, AddSoftmaxCrossEntropyDropout) {
  REQUIRE_GPU();
  expect_gpu_equals_cpu({random_normal(Shape{2, 3, 4, 5}, 70), random_normal(Shape{2, 3, 4, 5}, 71)},
                        [](const std::vector<Tensor>& in) { return ops::add(ops::relu(in[0]), ops::add(in[0], in[1])); },
                        kElementwise);
  for (const Shape& x : {Shape{3, 7}, Shape{4, 1000}}) {
    SCOPED_TRACE(x.str());
    expect_gpu_equals_cpu({random_normal(x, 72, 3.0f)}, [](const std::vector<Tensor>& in) { return ops::softmax(in[0]); },
                          kElementwise);
    expect_gpu_equals_cpu({random_normal(x, 73, 3.0f)},
                          [](const std::vector<Tensor>& in) { return ops::log_softmax(in[0]); }, kElementwise);
  }
  expect_gpu_equals_cpu({random_normal(Shape{3, 10}, 74, 4.0f)},
                        [](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], {1, 0, 9}); },
                        kElementwise);
  expect_gpu_equals_cpu({random_normal(Shape{4, 50}, 75)},
                        [](const std::vector<Tensor>& in) {
                          std::mt19937_64 rng(5);  // the same mask on both devices
                          return ops::dropout(in[0], 0.3f, true, &rng);
                        },
                        kElementwise);
}

TEST(CudaOps, MixedDevicesAreRefusedClearly) {
  REQUIRE_GPU();
  const Tensor a = random_normal(Shape{2, 3}, 1), b = random_normal(Shape{2, 3}, 2).to(Device::CUDA);
  try {
    ops::add(a, b);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("different devices"), std::string::npos) << e.what();
  }
}

// Whole networks: the logits, and Grad-CAM's gradient at the default layer, equal the CPU's.
void expect_network_equal(const std::string& architecture) {
  auto cpu_model = models::make_model(architecture);
  cpu_model->initialize(7);
  auto gpu_model = models::make_model(architecture);
  gpu_model->initialize(7);
  gpu_model->to(Device::CUDA);
  ASSERT_EQ(gpu_model->device(), Device::CUDA);
  const Tensor x = random_normal(Shape{2, 3, 224, 224}, 8);
  cam::ExplainOptions options;
  options.guided = true;
  const cam::BatchExplanation cpu = cam::explain(*cpu_model, x, {{-1}, {-1}}, options);
  const cam::BatchExplanation gpu = cam::explain(*gpu_model, x.to(Device::CUDA), {{-1}, {-1}}, options);
  EXPECT_TRUE(test::near_in_norm(gpu.logits, cpu.logits, kProducts)) << "logits";
  for (int n = 0; n < 2; ++n) {
    EXPECT_EQ(gpu.images[n][0].class_index, cpu.images[n][0].class_index);
    EXPECT_TRUE(test::near_in_norm(gpu.images[n][0].map, cpu.images[n][0].map, 1e-3)) << "Grad-CAM map " << n;
    EXPECT_TRUE(test::near_in_norm(gpu.images[n][0].guided, cpu.images[n][0].guided, 1e-3)) << "guided " << n;
  }
}

TEST(CudaNetworks, Resnet50EqualsCpu) {
  REQUIRE_GPU();
  expect_network_equal("resnet50");
}

TEST(CudaNetworks, Vgg16EqualsCpu) {
  REQUIRE_GPU();
  expect_network_equal("vgg16");
}

TEST(CudaRuntime, RepeatedExplanationAllocatesNothingNew) {
  REQUIRE_GPU();
  auto model = models::make_model("resnet18");
  model->initialize(3);
  model->to(Device::CUDA);
  const Tensor x = random_normal(Shape{4, 3, 224, 224}, 9).to(Device::CUDA);
  for (int warm = 0; warm < 2; ++warm) cam::explain(*model, x, {{-1}, {-1}, {-1}, {-1}}, {});
  const CudaMemoryStats before = cuda_memory_stats();
  for (int i = 0; i < 3; ++i) cam::explain(*model, x, {{-1}, {-1}, {-1}, {-1}}, {});
  const CudaMemoryStats after = cuda_memory_stats();
  EXPECT_EQ(after.device_allocations, before.device_allocations) << "cudaMalloc in the steady state";
  EXPECT_GT(after.cache_hits, before.cache_hits);
}

TEST(CudaRuntime, Tf32IsOffUnlessAskedAndStaysClose) {
  REQUIRE_GPU();
  EXPECT_FALSE(cuda_tf32());
  const Tensor x = random_normal(Shape{2, 64, 28, 28}, 11), w = random_normal(Shape{64, 64, 3, 3}, 12, 0.1f);
  const Tensor cpu = ops::conv2d(x, w, Tensor(), {1, 1});
  set_cuda_tf32(true);
  const Tensor tf32 = ops::conv2d(x.to(Device::CUDA), w.to(Device::CUDA), Tensor(), {1, 1}).to(Device::CPU);
  set_cuda_tf32(false);
  const Tensor fp32 = ops::conv2d(x.to(Device::CUDA), w.to(Device::CUDA), Tensor(), {1, 1}).to(Device::CPU);
  EXPECT_TRUE(test::near_in_norm(fp32, cpu, kProducts));
  EXPECT_TRUE(test::near_in_norm(tf32, cpu, 5e-3));  // 10-bit mantissas: close, not FP32-close
}

}  // namespace
}  // namespace gcam
