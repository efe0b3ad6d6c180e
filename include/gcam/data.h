// gcam/data.h — Fashion-MNIST, and the "cluttered" canvases gcam trains and evaluates its own model on.
//
//   auto train = data::load_fashion_mnist("/usr/share/datasets/fashion-mnist", data::Split::Train);
//   data::Canvas c = data::make_canvas(train, 17, data::canvas_seed(1, 0, 17), {});
//   // c.image: 64×64 RGB, c.label: the item's class, c.box: where the item is (inclusive pixels)
//
// Fashion-MNIST (Xiao et al. 2017): 70,000 grey 28×28 pictures of clothing in 10 classes, as IDX files
// (gzip-compressed; Debian package dataset-fashion-mnist). A canvas places one item, scaled, coloured
// and at a random position, on a textured background with fragments of other items as distractors, so
// that finding the object is not trivial — and since gcam placed it, its true bounding box is known.
// Every canvas is a pure function of (item set, item index, seed): any one can be rebuilt alone.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gcam/cam.h"
#include "gcam/image.h"

namespace gcam::data {

// Grey pictures with a class label each.
struct ItemSet {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // (count, rows, cols), 0 = background, 255 = ink
  std::vector<uint8_t> labels;  // (count)
  const uint8_t* item(int64_t i) const { return pixels.data() + i * rows * cols; }
};

// One IDX file pair (images: magic 0x00000803, labels: 0x00000801), gzip-compressed or not. Every size
// is checked against the file; a bad file is an InputError "<path>: <what is wrong>".
ItemSet read_idx(const std::string& images_path, const std::string& labels_path);

enum class Split { Train, Test };
// train-images-idx3-ubyte.gz / train-labels-idx1-ubyte.gz or t10k-… in `directory`.
ItemSet load_fashion_mnist(const std::string& directory, Split split);
constexpr const char* kFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

// The ten class names, in label order ("T-shirt/top", "Trouser", …, "Ankle boot").
const std::array<const char*, 10>& fashion_mnist_classes();

struct CanvasOptions {
  int64_t size = 64;               // the canvas is size × size
  float min_scale = 0.85f;         // the item's 28 px side is scaled by a factor in [min_scale, max_scale]
  float max_scale = 1.6f;
  int distractors = 3;             // fragments of other items
  int64_t fragment = 12;           // their side in the source picture, before scaling
};

struct Canvas {
  image::Image image;  // size × size RGB
  int64_t label = 0;   // the placed item's class
  cam::Box box;        // tight box around the item's visible ink (≥ 10% opacity), inclusive
};

// A canvas showing item `index` of `items`. Distractor fragments come from other items of the same set.
Canvas make_canvas(const ItemSet& items, int64_t index, uint64_t seed, const CanvasOptions& options);

// The seed of one canvas: distinct for every (run seed, epoch, position), so a training epoch places
// every item anew while the evaluation canvases (epoch 0 of their own seed) never change.
uint64_t canvas_seed(uint64_t seed, int64_t epoch, int64_t index);
// The held-out canvases: test-split items on epoch-0 canvases of this seed (gcam-train's per-epoch
// accuracy and gcam-localize's table use the same ones).
constexpr uint64_t kHeldOutSeed = 1610023910;
// gcam-train's default --seed: its training canvases are epochs 1, 2, … of this seed (so the canvases of
// epoch 1 stand for "what training sees", e.g. for the centred baseline's box size).
constexpr uint64_t kTrainingSeed = 1;

}  // namespace gcam::data
