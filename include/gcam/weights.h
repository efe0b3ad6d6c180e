// gcam/weights.h — reading the checkpoint files people already have, with no Python.
//
// Formats, recognised by content (never by name): PyTorch's zip checkpoint (torch.save since 1.6), the
// legacy format before it (the official VGG files; Python-2-era forms included), and safetensors.
// Pickled files go through a restricted unpickler that only builds what a state dict needs: loading a
// checkpoint never executes anything. A state dict wrapped in a training checkpoint (under
// "state_dict" or "model") is unwrapped. The file is memory-mapped and each tensor's pages are dropped
// once it is copied out, so loading holds one copy of the weights. Every size read from the file is
// checked against the file's length; a bad file is an InputError "<path>: <what is wrong>".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gcam/tensor.h"

namespace gcam::weights {

class FileMap;

enum class Format { TorchZip, TorchLegacy, Safetensors };
const char* format_name(Format format);  // "pytorch-zip", "pytorch-legacy", "safetensors"

enum class DType { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool };
const char* dtype_name(DType dtype);  // "float32", …
int dtype_size(DType dtype);          // bytes per element

// One tensor as the file stores it.
struct StoredTensor {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;    // any rank; () is a scalar
  std::vector<int64_t> strides;  // in elements
  int64_t storage_offset = 0;    // in elements, into the storage
  uint64_t storage_begin = 0;    // file offset of the storage's first byte
  int64_t storage_numel = 0;     // elements the storage holds (bounds every index)

  int64_t numel() const;
  std::string shape_str() const;  // "(64, 3, 7, 7)"
};

class Checkpoint {
 public:
  static std::unique_ptr<Checkpoint> open(const std::string& path);
  ~Checkpoint();

  const std::string& path() const;
  Format format() const { return format_; }
  const std::vector<StoredTensor>& tensors() const { return tensors_; }  // in the file's order
  const StoredTensor* find(const std::string& name) const;
  // safetensors "__metadata__" (empty for pickled files).
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }

  // The tensor as float32 with shape `as` (same element count; at most 4 dimensions), converted from
  // its stored type; its pages of the file are released afterwards.
  Tensor read_float(const StoredTensor& t, const Shape& as) const;
  // The same, into an existing CPU tensor with that many elements (its shape is kept).
  void read_into(const StoredTensor& t, Tensor& destination) const;

 private:
  Checkpoint() = default;
  std::unique_ptr<FileMap> file_;
  Format format_ = Format::TorchZip;
  std::vector<StoredTensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;

};

// Writes float32 tensors as safetensors (keys sorted, 8-byte-aligned header), atomically: to a temporary
// file beside `path`, renamed into place only when complete. Throws InputError naming the file.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata);

// SHA-256 of a whole file, lowercase hex (for checking official files against the manifest).
std::string sha256_file(const std::string& path);

}  // namespace gcam::weights
