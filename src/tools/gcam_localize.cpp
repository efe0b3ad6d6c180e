// gcam-localize — how well each explanation method finds the object, on held-out canvases whose true
// boxes are known: classification accuracy, pointing game and the paper's localization error per method
// (protocol in gcam/localization.h). Prints a Markdown table (and JSON lines with --json).
//
//   gcam-localize                       # the shipped model, all 10,000 test-split canvases
//   gcam-localize --images 1000 --weights my.safetensors
#include <unistd.h>

#include <cstdio>
#include <string>

#include <omp.h>

#include "gcam/data.h"
#include "cli.h"
#include "gcam/error.h"
#include "gcam/localization.h"
#include "gcam/model_card.h"
#include "gcam/models.h"
#include "gcam/weights.h"

using namespace gcam;

namespace {

const char* kHelp = R"(usage: gcam-localize [options]

Evaluates Grad-CAM (last and second-to-last stage), counterfactual Grad-CAM, guided backprop, Guided
Grad-CAM and a centred-box baseline on held-out cluttered Fashion-MNIST canvases (test split, fixed seed),
explaining the true class of each:
  accuracy            top-1 classification accuracy
  pointing game       the map's maximum lies inside the true box
  localization error  the paper's: box from the 15%-of-maximum threshold (largest connected component);
                      correct when the class is right and IoU with the true box ≥ 0.5
  mean IoU, mass in box (the share of the map's sum inside the true box)

  --weights FILE         a gcam-train checkpoint (default: the shipped weights/fashion_resnet.safetensors)
  --data DIR             Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --images N             canvases to evaluate (default 10000: the whole test split)
  --batch N              canvases per pass (default 50)
  --layer PATH           the last-stage layer (default: the model's default target, layer4)
  --previous-layer PATH  the second-to-last stage (default: the stage before --layer)
  --json                 also print one JSON line per method
  --threads N            CPU threads (default: all cores)
  --help                 this text

Exit status: 0 success; 2 bad usage or bad input (one line on stderr); 1 internal error.
)";

struct Options {
  std::string weights, data = data::kFashionMnistDirectory, layer, previous_layer;
  int64_t images = 10000, batch = 50, threads = 0;
  bool json = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (tools::Arguments args("gcam-localize", argc, argv); args.next();) {
    if (args.is("--help") || args.is("-h")) { std::fputs(kHelp, stdout); std::exit(0); }
    else if (args.is("--weights")) o.weights = args.value();
    else if (args.is("--data")) o.data = args.value();
    else if (args.is("--images")) o.images = args.integer(1, 10000);
    else if (args.is("--batch")) o.batch = args.integer(1, 4096);
    else if (args.is("--layer")) o.layer = args.value();
    else if (args.is("--previous-layer")) o.previous_layer = args.value();
    else if (args.is("--json")) o.json = true;
    else if (args.is("--threads")) o.threads = args.integer(1, 1024);
    else args.reject();
  }
  return o;
}

void show_progress(int64_t done, int64_t total) {
  std::fprintf(stderr, "\r%lld/%lld canvases", static_cast<long long>(done), static_cast<long long>(total));
  if (done == total) std::fputc('\n', stderr);
}

int run(const Options& o) {
  if (o.threads > 0) omp_set_num_threads(static_cast<int>(o.threads));
  const std::string path = o.weights.empty() ? default_weights_path() : o.weights;
  auto checkpoint = weights::Checkpoint::open(path);
  const ModelCard card = read_model_card(*checkpoint);
  if (card.architecture.empty() || !card.has_preprocess)
    throw InputError(path + ": not a gcam-train checkpoint (no gcam.architecture and preprocessing metadata)");
  auto model = models::make_model(card.architecture, 10);
  models::load_weights(*model, *checkpoint);
  checkpoint.reset();
  const data::ItemSet test = data::load_fashion_mnist(o.data, data::Split::Test);
  const data::ItemSet train = data::load_fashion_mnist(o.data, data::Split::Train);
  data::CanvasOptions canvas;
  canvas.size = card.preprocess.crop;
  eval::LocalizationOptions lo;
  lo.images = std::min(o.images, test.count);
  lo.batch = o.batch;
  lo.last_layer = o.layer;
  lo.previous_layer = o.previous_layer;
  const eval::LocalizationReport r = eval::evaluate_localization(*model, test, train, canvas, card.preprocess, lo,
                                                                 isatty(STDERR_FILENO) ? show_progress : nullptr);

  std::printf("%s on %lld held-out canvases (%lldx%lld, test split): accuracy %.2f%%; true boxes cover %.1f%% of a canvas on average\n\n",
              card.architecture.c_str(), static_cast<long long>(r.images), static_cast<long long>(canvas.size),
              static_cast<long long>(canvas.size), 100.0 * r.accuracy(), 100.0 * r.box_area);
  std::printf("| method | map from | accuracy | pointing game | localization error | mean IoU | mass in box | all-zero maps |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const eval::MethodScore& m : r.methods)
    std::printf("| %s | %s | %.1f%% | %.1f%% | %.1f%% | %.3f | %.3f | %lld |\n", m.method.c_str(), m.layer.c_str(),
                100.0 * r.accuracy(), 100.0 * m.pointing(), 100.0 * m.localization_error(), m.mean_iou(), m.mass_in_box(),
                static_cast<long long>(m.all_zero));
  if (o.json)
    for (const eval::MethodScore& m : r.methods)
      std::printf("{\"method\": \"%s\", \"layer\": \"%s\", \"images\": %lld, \"accuracy\": %.5f, \"pointing_game\": %.5f, "
                  "\"localization_error\": %.5f, \"mean_iou\": %.5f, \"mass_in_box\": %.5f, \"all_zero\": %lld}\n",
                  m.method.c_str(), m.layer.c_str(), static_cast<long long>(m.images), r.accuracy(), m.pointing(),
                  m.localization_error(), m.mean_iou(), m.mass_in_box(), static_cast<long long>(m.all_zero));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_main("gcam-localize", [&] { return run(parse(argc, argv)); });
}
