// gcam/model_card.h — what a checkpoint says about how to use it, and gcam's shipped default model.
//
// gcam-train writes its facts into the safetensors metadata; explain and gcam-localize read them back:
//   gcam.architecture   "fashion_resnet"                 what make_model builds
//   gcam.class_names    "T-shirt/top|Trouser|…"          logit i's name, '|'-separated
//   gcam.resize, gcam.crop, gcam.mean, gcam.std          the preprocessing it was trained with
// A torchvision checkpoint has none of these: then the architecture comes from the manifest of official
// files (or --model), the names are ImageNet's, and the preprocessing is ImageNet's.
#pragma once

#include <string>
#include <vector>

#include "gcam/image.h"
#include "gcam/weights.h"

namespace gcam {

struct ModelCard {
  std::string architecture;              // empty when the checkpoint does not say
  std::vector<std::string> class_names;  // empty when the checkpoint does not say
  image::Preprocess preprocess;          // ImageNet's unless the checkpoint says otherwise
  bool has_preprocess = false;           // the checkpoint named its own preprocessing
};

// Reads the card from a checkpoint's metadata; a malformed value (not a size, not three numbers, an empty
// class name, an architecture make_model does not build) is an InputError naming the file.
ModelCard read_model_card(const weights::Checkpoint& checkpoint);

// The model gcam ships (trained by gcam-train on cluttered Fashion-MNIST): $GCAM_DEFAULT_WEIGHTS if
// set, else weights/fashion_resnet.safetensors in the source tree gcam was built from.
std::string default_weights_path();

}  // namespace gcam
