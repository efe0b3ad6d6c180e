// gcam/train.h — training a classifier with gcam's own autodiff: SGD with momentum, a learning-rate
// schedule, and the step that ties the model, the loss and the optimizer together.
//
//   train::Sgd sgd(model->parameters_for_training(), {0.9f, 5e-4f});
//   for (int64_t step = 0; step < steps; ++step) {
//     const float lr = train::cosine_lr(0.05f, step, steps, warmup);
//     train::StepResult r = train::train_step(*model, sgd, batch.input, batch.labels, lr);
//   }
#pragma once

#include <cstdint>
#include <vector>

#include "gcam/data.h"
#include "gcam/image.h"
#include "gcam/models.h"
#include "gcam/tensor.h"

namespace gcam::train {

// SGD with momentum and L2 weight decay, in PyTorch's formulation (so a run can be compared step for step):
//   g ← ∂L/∂p + λ·p          (λ only on convolution and linear weights: decaying batch-norm scales and
//                             biases only fights the normalisation)
//   v ← μ·v + g              (v starts at 0)
//   p ← p − lr·v
struct SgdOptions {
  float momentum = 0.9f;
  float weight_decay = 5e-4f;
};

class Sgd {
 public:
  Sgd(std::vector<Tensor> parameters, SgdOptions options);
  void zero_grad();     // drops every parameter's gradient (the next backward pass writes it afresh)
  void step(float lr);  // one update from the gradients the last backward pass left in .grad()

 private:
  std::vector<Tensor> parameters_;
  std::vector<std::vector<float>> velocity_;  // per parameter, its shape flattened
  SgdOptions options_;
};

// The model's learned tensors (its state without the batch-norm buffers), each marked requires_grad.
std::vector<Tensor> trainable_parameters(models::Model& model);

// Linear warm-up from 0 over `warmup` steps, then a half cosine from `base` down to 0 at `total`.
float cosine_lr(float base, int64_t step, int64_t total, int64_t warmup);

struct StepResult {
  float loss = 0.0f;    // mean cross-entropy over the batch
  int64_t correct = 0;  // images whose top-1 class was the label (before the update)
};

// One training step: forward in training mode (batch statistics), cross-entropy, backward into the
// parameters' .grad(), and the SGD update.
StepResult train_step(models::Model& model, Sgd& sgd, const Tensor& input, const std::vector<int64_t>& labels, float lr);

// A batch of canvases as network input.
struct Batch {
  Tensor input;                 // (N, 3, S, S), normalised by `preprocess`' mean and std
  std::vector<int64_t> labels;  // (N)
  std::vector<cam::Box> boxes;  // (N) where each object is
};
// Canvases of items order[first … first + count) (canvas seeds from (seed, epoch, item index)), built in parallel.
Batch make_batch(const data::ItemSet& items, const std::vector<int64_t>& order, int64_t first, int64_t count,
                 uint64_t seed, int64_t epoch, const data::CanvasOptions& canvas, const image::Preprocess& preprocess);

// Top-1 accuracy of the model in inference mode (running statistics) on canvases 0 … count − 1 of
// `items` with epoch-0 seeds of `seed`: the held-out set. The model is left in inference mode.
double evaluate_accuracy(models::Model& model, const data::ItemSet& items, int64_t count, uint64_t seed,
                         const data::CanvasOptions& canvas, const image::Preprocess& preprocess, int64_t batch = 64);

// How the shipped canvas models see their input: the canvas as it is (64 × 64), (v/255 − 0.5)/0.25.
image::Preprocess canvas_preprocess(int64_t size = 64);

}  // namespace gcam::train
