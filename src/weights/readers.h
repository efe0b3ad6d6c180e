// readers.h — the three container formats, each turned into a list of StoredTensors (internal).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "file_map.h"
#include "gcam/weights.h"

namespace gcam::weights {

std::vector<StoredTensor> read_torch_zip(const FileMap& file);
std::vector<StoredTensor> read_torch_legacy(const FileMap& file);
std::vector<StoredTensor> read_safetensors(const FileMap& file,
                                           std::vector<std::pair<std::string, std::string>>* metadata);

// Checks that every element of t lies inside its storage and the storage inside the file (with
// overflow-safe arithmetic). InputError naming the file and the tensor otherwise.
void check_tensor_bounds(const StoredTensor& t, const FileMap& file);

}  // namespace gcam::weights
