// gcam-canvases — writes cluttered Fashion-MNIST canvases as PNG files, with their labels and true boxes.
//
//   gcam-canvases --split test --count 8 --out examples/canvases
// writes canvas_0000.png … and boxes.tsv (file, label, class name, x0 y0 x1 y1 inclusive). The test
// split's canvases are the held-out ones gcam-train and gcam-localize measure on.
#include <cstdio>
#include <filesystem>
#include <string>

#include "gcam/data.h"
#include "cli.h"
#include "gcam/error.h"
#include "gcam/image.h"

using namespace gcam;

namespace {

const char* kHelp = R"(usage: gcam-canvases [options]

Writes cluttered Fashion-MNIST canvases (an item scaled, coloured and placed on a textured background
with fragments of other items) as PNG files, and boxes.tsv with each canvas's label and true box.

  --split S      test (default: the held-out canvases) or train
  --first N      the first item index (default 0)
  --count N      how many canvases (default 8)
  --size S       canvas side in pixels (default 64)
  --out DIR      output folder (default canvases)
  --data DIR     Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --help         this text
)";

int run(int argc, char** argv) {
  std::string split = "test", out = "canvases", dir = data::kFashionMnistDirectory;
  int64_t first = 0, count = 8, size = 64;
  for (tools::Arguments args("gcam-canvases", argc, argv); args.next();) {
    if (args.is("--help") || args.is("-h")) { std::fputs(kHelp, stdout); return 0; }
    else if (args.is("--split")) split = args.value();
    else if (args.is("--first")) first = args.integer(0, 59999);
    else if (args.is("--count")) count = args.integer(1, 60000);
    else if (args.is("--size")) size = args.integer(48, 512);
    else if (args.is("--out")) out = args.value();
    else if (args.is("--data")) dir = args.value();
    else args.reject();
  }
  if (split != "test" && split != "train") throw InputError("--split must be test or train");
  const bool test = split == "test";
  const data::ItemSet items = data::load_fashion_mnist(dir, test ? data::Split::Test : data::Split::Train);
  if (first + count > items.count) throw InputError("--first + --count exceeds the " + std::to_string(items.count) + " items of the split");
  data::CanvasOptions options;
  options.size = size;
  tools::make_folder(out);
  std::string table = "file\tlabel\tclass\tx0\ty0\tx1\ty1\n";
  for (int64_t i = first; i < first + count; ++i) {
    // The held-out canvases are epoch 0 of kHeldOutSeed; training canvases epoch 1 of kTrainingSeed.
    const data::Canvas c = data::make_canvas(items, i, test ? data::canvas_seed(data::kHeldOutSeed, 0, i) : data::canvas_seed(data::kTrainingSeed, 1, i), options);
    char name[64];
    std::snprintf(name, sizeof name, "%s_%05lld.png", split.c_str(), static_cast<long long>(i));
    image::write_png((std::filesystem::path(out) / name).string(), c.image);
    table += std::string(name) + "\t" + std::to_string(c.label) + "\t" + data::fashion_mnist_classes()[c.label] + "\t" +
             std::to_string(c.box.x0) + "\t" + std::to_string(c.box.y0) + "\t" + std::to_string(c.box.x1) + "\t" +
             std::to_string(c.box.y1) + "\n";
  }
  const std::string tsv = (std::filesystem::path(out) / "boxes.tsv").string();
  FILE* f = std::fopen(tsv.c_str(), "w");
  if (!f || std::fputs(table.c_str(), f) < 0 || std::fclose(f) != 0) throw InputError(tsv + ": cannot write");
  std::printf("wrote %lld canvases and boxes.tsv to %s\n", static_cast<long long>(count), out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_main("gcam-canvases", [&] { return run(argc, argv); });
}
