// gcam-train — trains gcam's canvas classifier on cluttered Fashion-MNIST, with gcam's own autodiff.
//
//   gcam-train --epochs 10 --warmup 500 --out weights/fashion_resnet.safetensors   (the shipped model, 33 min on 2 cores)
// Every epoch shows each of the 60,000 training items once, each on a new random canvas; after each
// epoch the held-out accuracy is measured and a checkpoint (safetensors, with the model's architecture,
// preprocessing and class names as metadata — what explain needs) is written.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "gcam/data.h"
#include "cli.h"
#include "gcam/error.h"
#include "gcam/models.h"
#include "gcam/train.h"
#include "gcam/weights.h"

using namespace gcam;

namespace {

const char* kHelp = R"(usage: gcam-train [options]

Trains a classifier on cluttered Fashion-MNIST canvases (each item scaled, coloured and placed on a
textured 64×64 background with fragments of other items) with gcam's own autodiff, batch norm in training
mode, cross-entropy and SGD with momentum; writes safetensors checkpoints that explain and gcam-localize
read.

Data
  --data DIR            Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --train-images N      training items per epoch (default: all 60000; each on a new canvas every epoch)
  --eval-images N       held-out test-split canvases measured after each epoch (default 2000)
  --canvas S            canvas side in pixels (default 64)
Model
  --model ARCH          fashion_resnet (default) or fashion_vgg (make_model documents both)
Optimisation
  --epochs N            passes over the training items (default 10)
  --batch N             canvases per step (default 64)
  --lr LR               peak learning rate (default 0.05)
  --warmup N            steps of linear warm-up before the cosine decay to 0 (default 500)
  --momentum M          SGD momentum (default 0.9)
  --weight-decay W      L2 on convolution and linear weights (default 5e-4)
  --seed S              initialisation, item order and canvases (default 1)
Output
  --out FILE            checkpoint, rewritten after every epoch (default fashion_resnet.safetensors)
  --log-every N         steps between progress lines (default 100)
Run
  --threads N           CPU threads (default: all cores)
  --help                this text

Progress lines show the running loss and accuracy over the last --log-every steps, the learning rate,
images per second and the time left. Exit status: 0 success; 2 bad usage or bad data (one line on
stderr); 1 internal error.
)";

struct Options {
  std::string data = data::kFashionMnistDirectory, model = "fashion_resnet", out = "fashion_resnet.safetensors";
  int64_t train_images = 0, eval_images = 2000, canvas = 64, epochs = 10, batch = 64, warmup = 500, seed = data::kTrainingSeed;
  int64_t log_every = 100, threads = 0;
  float lr = 0.05f, momentum = 0.9f, weight_decay = 5e-4f;
  std::string command;
};

[[noreturn]] void usage(const std::string& message) { tools::usage_error("gcam-train", message); }

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) o.command += (i ? " " : "") + std::string(i ? argv[i] : "gcam-train");
  for (tools::Arguments args("gcam-train", argc, argv); args.next();) {
    if (args.is("--help") || args.is("-h")) { std::fputs(kHelp, stdout); std::exit(0); }
    else if (args.is("--data")) o.data = args.value();
    else if (args.is("--train-images")) o.train_images = args.integer(1, 60000);
    else if (args.is("--eval-images")) o.eval_images = args.integer(1, 10000);
    else if (args.is("--canvas")) o.canvas = args.integer(48, 512);
    else if (args.is("--model")) o.model = args.value();
    else if (args.is("--epochs")) o.epochs = args.integer(1, 1000);
    else if (args.is("--batch")) o.batch = args.integer(2, 4096);
    else if (args.is("--lr")) o.lr = args.number(0.0f, 10.0f);
    else if (args.is("--warmup")) o.warmup = args.integer(0, 1 << 30);
    else if (args.is("--momentum")) o.momentum = args.number(0.0f, 0.999f);
    else if (args.is("--weight-decay")) o.weight_decay = args.number(0.0f, 1.0f);
    else if (args.is("--seed")) o.seed = args.integer(0, int64_t{1} << 62);
    else if (args.is("--out")) o.out = args.value();
    else if (args.is("--log-every")) o.log_every = args.integer(1, 1 << 30);
    else if (args.is("--threads")) o.threads = args.integer(1, 1024);
    else args.reject();
  }
  if (o.model != "fashion_resnet" && o.model != "fashion_vgg") usage("--model must be fashion_resnet or fashion_vgg");
  return o;
}

std::string duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

void save(const Options& o, models::Model& model, const image::Preprocess& pre, int64_t epochs_done,
          double heldout_accuracy, double seconds) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const models::NamedTensor& e : model.state()) tensors.emplace_back(e.name, e.tensor);
  std::string names;
  for (const char* name : data::fashion_mnist_classes()) names += (names.empty() ? "" : "|") + std::string(name);
  char accuracy[32], mean[64], stdev[64];
  std::snprintf(accuracy, sizeof accuracy, "%.4f", heldout_accuracy);
  std::snprintf(mean, sizeof mean, "%g,%g,%g", pre.mean[0], pre.mean[1], pre.mean[2]);
  std::snprintf(stdev, sizeof stdev, "%g,%g,%g", pre.std[0], pre.std[1], pre.std[2]);
  weights::write_safetensors(o.out, tensors,
                             {{"gcam.architecture", o.model},
                              {"gcam.class_names", names},
                              {"gcam.resize", std::to_string(pre.resize)},
                              {"gcam.crop", std::to_string(pre.crop)},
                              {"gcam.mean", mean},
                              {"gcam.std", stdev},
                              {"gcam.dataset", "Fashion-MNIST cluttered canvases " + std::to_string(o.canvas) + "x" + std::to_string(o.canvas)},
                              {"gcam.command", o.command},
                              {"gcam.epochs", std::to_string(epochs_done)},
                              {"gcam.heldout_accuracy", accuracy},
                              {"gcam.train_seconds", std::to_string(std::lround(seconds))}});
}

int run(const Options& o) {
  if (o.threads > 0) omp_set_num_threads(static_cast<int>(o.threads));
  const data::ItemSet train_set = data::load_fashion_mnist(o.data, data::Split::Train);
  const data::ItemSet test_set = data::load_fashion_mnist(o.data, data::Split::Test);
  const int64_t per_epoch = o.train_images ? std::min(o.train_images, train_set.count) : train_set.count;
  const int64_t eval_images = std::min(o.eval_images, test_set.count);
  data::CanvasOptions canvas;
  canvas.size = o.canvas;
  const image::Preprocess pre = train::canvas_preprocess(o.canvas);

  // The checkpoint's folder, made now: a bad --out should fail before the training, not after it.
  tools::make_folder(std::filesystem::path(o.out).parent_path().string());
  auto model = models::make_model(o.model, 10);
  model->initialize(static_cast<uint64_t>(o.seed));
  train::Sgd sgd(train::trainable_parameters(*model), train::SgdOptions{o.momentum, o.weight_decay});
  const int64_t steps_per_epoch = per_epoch / o.batch;  // the last partial batch is dropped
  if (steps_per_epoch == 0) usage("--batch " + std::to_string(o.batch) + " is larger than --train-images");
  const int64_t total_steps = steps_per_epoch * o.epochs;
  std::printf("gcam-train: %s on %lld canvases per epoch (%lldx%lld), %lld epochs of %lld steps, batch %lld, %d threads\n",
              o.model.c_str(), static_cast<long long>(per_epoch), static_cast<long long>(o.canvas),
              static_cast<long long>(o.canvas), static_cast<long long>(o.epochs),
              static_cast<long long>(steps_per_epoch), static_cast<long long>(o.batch), omp_get_max_threads());
  std::fflush(stdout);

  std::vector<int64_t> order(static_cast<size_t>(train_set.count));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuffle(static_cast<uint64_t>(o.seed));
  const auto start = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  double train_seconds = 0;  // excluding evaluation and saving
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), shuffle);
    double window_loss = 0, window_seconds = 0;
    int64_t window_correct = 0, window_images = 0, window_steps = 0;
    for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
      const auto t0 = std::chrono::steady_clock::now();
      const train::Batch batch = train::make_batch(train_set, order, s * o.batch, o.batch, static_cast<uint64_t>(o.seed), epoch, canvas, pre);
      const float lr = train::cosine_lr(o.lr, step, total_steps, o.warmup);
      const train::StepResult r = train::train_step(*model, sgd, batch.input, batch.labels, lr);
      if (!std::isfinite(r.loss)) throw std::runtime_error("the loss diverged (" + std::to_string(r.loss) + ") at step " + std::to_string(step) + ": lower --lr");
      const double dt = seconds_since(t0);
      train_seconds += dt;
      window_loss += r.loss, window_correct += r.correct, window_images += o.batch, window_seconds += dt, ++window_steps;
      if (window_steps == o.log_every || s + 1 == steps_per_epoch) {
        const double rate = window_images / window_seconds;
        std::printf("epoch %lld/%lld  step %5lld/%lld  loss %.4f  acc %5.1f%%  lr %.4f  %6.1f img/s  ETA %s\n",
                    static_cast<long long>(epoch), static_cast<long long>(o.epochs), static_cast<long long>(s + 1),
                    static_cast<long long>(steps_per_epoch), window_loss / window_steps,
                    100.0 * window_correct / window_images, lr, rate,
                    duration((total_steps - step - 1) * o.batch / rate).c_str());
        std::fflush(stdout);
        window_loss = window_seconds = 0, window_correct = window_images = window_steps = 0;
      }
    }
    const auto e0 = std::chrono::steady_clock::now();
    const double accuracy = train::evaluate_accuracy(*model, test_set, eval_images, data::kHeldOutSeed, canvas, pre);
    save(o, *model, pre, epoch, accuracy, train_seconds);
    std::printf("epoch %lld/%lld  held-out accuracy %.2f%% on %lld test canvases (%.1f s)  saved %s  elapsed %s\n",
                static_cast<long long>(epoch), static_cast<long long>(o.epochs), 100.0 * accuracy,
                static_cast<long long>(eval_images), seconds_since(e0), o.out.c_str(), duration(seconds_since(start)).c_str());
    std::fflush(stdout);
  }
  std::printf("gcam-train: done in %s (training steps %s, %.1f img/s)\n", duration(seconds_since(start)).c_str(),
              duration(train_seconds).c_str(), total_steps * o.batch / train_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_main("gcam-train", [&] { return run(parse(argc, argv)); });
}
