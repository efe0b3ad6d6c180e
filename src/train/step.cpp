// step.cpp — one training step, batches of canvases, and held-out accuracy.
#include <omp.h>

#include <algorithm>

#include "gcam/autograd.h"
#include "gcam/error.h"
#include "gcam/ops.h"
#include "gcam/train.h"

namespace gcam::train {

namespace {

int64_t count_correct(const Tensor& logits, const std::vector<int64_t>& labels, int64_t offset = 0) {
  const int64_t n = logits.size(0), classes = logits.size(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * classes;
    correct += std::max_element(row, row + classes) - row == labels[offset + i];
  }
  return correct;
}

}  // namespace

StepResult train_step(models::Model& model, Sgd& sgd, const Tensor& input, const std::vector<int64_t>& labels, float lr) {
  GCAM_CHECK(model.device() == Device::CPU && input.device() == Device::CPU,
             "train_step: training runs on the CPU (the CUDA ops have gradients, the optimizer does not yet)");
  model.set_training(true);
  sgd.zero_grad();
  Tape tape;
  const Tensor logits = model.forward(tape.watch(input));  // (N, classes)
  const Tensor loss = ops::cross_entropy(logits, labels);   // (1)
  tape.backward(loss);
  sgd.step(lr);
  return StepResult{loss.item(), count_correct(logits, labels)};
}

Batch make_batch(const data::ItemSet& items, const std::vector<int64_t>& order, int64_t first, int64_t count,
                 uint64_t seed, int64_t epoch, const data::CanvasOptions& canvas, const image::Preprocess& preprocess) {
  GCAM_CHECK(first >= 0 && count > 0 && first + count <= static_cast<int64_t>(order.size()), "make_batch: items ",
             first, "…", first + count, " of ", order.size());
  std::vector<image::Image> images(static_cast<size_t>(count));
  Batch batch;
  batch.labels.resize(static_cast<size_t>(count));
  batch.boxes.resize(static_cast<size_t>(count));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const int64_t item = order[first + i];
    data::Canvas c = data::make_canvas(items, item, data::canvas_seed(seed, epoch, item), canvas);
    images[i] = std::move(c.image);
    batch.labels[i] = c.label;
    batch.boxes[i] = c.box;
  }
  batch.input = image::to_input(images, preprocess);
  return batch;
}

double evaluate_accuracy(models::Model& model, const data::ItemSet& items, int64_t count, uint64_t seed,
                         const data::CanvasOptions& canvas, const image::Preprocess& preprocess, int64_t batch_size) {
  GCAM_CHECK(count > 0 && count <= items.count, "evaluate: ", count, " canvases of ", items.count, " items");
  GCAM_CHECK(model.device() == Device::CPU, "evaluate: the model must be on the CPU");
  model.set_training(false);
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) order[i] = i;
  int64_t correct = 0;
  for (int64_t first = 0; first < count; first += batch_size) {
    const Batch b = make_batch(items, order, first, std::min(batch_size, count - first), seed, 0, canvas, preprocess);
    correct += count_correct(model.forward(b.input), b.labels);
  }
  return static_cast<double>(correct) / static_cast<double>(count);
}

image::Preprocess canvas_preprocess(int64_t size) {
  image::Preprocess p;
  p.resize_and_crop = true;  // a canvas-sized image passes through unchanged; others are fitted to it
  p.resize = size;
  p.crop = size;
  p.mean = {0.5f, 0.5f, 0.5f};
  p.std = {0.25f, 0.25f, 0.25f};
  return p;
}

}  // namespace gcam::train
