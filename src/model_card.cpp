// model_card.cpp — reading gcam.* checkpoint metadata (see gcam/model_card.h).
#include "gcam/model_card.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "gcam/error.h"
#include "gcam/models.h"
#include "gcam/printable.h"

#ifndef GCAM_SOURCE_DIR
#define GCAM_SOURCE_DIR "."
#endif

namespace gcam {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

bool buildable(const std::string& architecture) {
  for (const std::vector<std::string>& names : {models::architectures(), models::own_architectures()})
    for (const std::string& name : names)
      if (name == architecture) return true;
  return false;
}

int64_t positive_int(const std::string& file, const std::string& key, const std::string& text) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || v <= 0 || v > 4096) throw InputError(file + ": metadata " + key + " = '" + printable(text) + "' is not a size from 1 to 4096");
  return v;
}

std::array<float, 3> three_floats(const std::string& file, const std::string& key, const std::string& text, bool positive) {
  const std::vector<std::string> parts = split(text, ',');
  std::array<float, 3> out{};
  bool ok = parts.size() == 3;
  for (size_t i = 0; ok && i < 3; ++i) {
    char* end = nullptr;
    out[i] = std::strtof(parts[i].c_str(), &end);
    ok = !parts[i].empty() && !*end && std::isfinite(out[i]) && (!positive || out[i] > 0);
  }
  if (!ok) throw InputError(file + ": metadata " + key + " = '" + printable(text) + "' is not three " + (positive ? "positive " : "") + "numbers");
  return out;
}

}  // namespace

ModelCard read_model_card(const weights::Checkpoint& checkpoint) {
  ModelCard card;
  const std::string& file = checkpoint.path();
  for (const auto& [key, value] : checkpoint.metadata()) {
    if (key == "gcam.architecture") card.architecture = value;
    else if (key == "gcam.class_names") card.class_names = split(value, '|');
    else if (key == "gcam.resize") card.preprocess.resize = positive_int(file, key, value), card.has_preprocess = true;
    else if (key == "gcam.crop") card.preprocess.crop = positive_int(file, key, value), card.has_preprocess = true;
    else if (key == "gcam.mean") card.preprocess.mean = three_floats(file, key, value, false), card.has_preprocess = true;
    else if (key == "gcam.std") card.preprocess.std = three_floats(file, key, value, true), card.has_preprocess = true;
  }
  for (const std::string& name : card.class_names)
    if (name.empty()) throw InputError(file + ": metadata gcam.class_names has an empty name");
  if (!card.architecture.empty() && !buildable(card.architecture))
    throw InputError(file + ": metadata gcam.architecture = '" + printable(card.architecture) + "' is not a model gcam knows (" +
                     models::known_architectures() + ")");
  return card;
}

std::string default_weights_path() {
  if (const char* path = std::getenv("GCAM_DEFAULT_WEIGHTS"); path && *path) return path;
  return std::string(GCAM_SOURCE_DIR) + "/weights/fashion_resnet.safetensors";
}

}  // namespace gcam
