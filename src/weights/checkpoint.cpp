// checkpoint.cpp — recognising a weight file by its content, and reading its tensors as float32.
//
// Detection (WEIGHT-FORMATS.md §1), in this order: safetensors (u64 header length that fits, then '{'),
// zip ("PK\x03\x04"), the pre-2017 TAR format (refused with a clear message), legacy (a protocol-2
// pickle of the magic number). Anything else is not a weight file.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "file_map.h"
#include "gcam/checked.h"
#include "gcam/error.h"
#include "gcam/weights.h"
#include "readers.h"

namespace gcam::weights {

const char* format_name(Format format) {
  switch (format) {
    case Format::TorchZip: return "pytorch-zip";
    case Format::TorchLegacy: return "pytorch-legacy";
    case Format::Safetensors: return "safetensors";
  }
  return "?";
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Int16: return "int16";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "?";
}

int dtype_size(DType dtype) {
  switch (dtype) {
    case DType::Float64: case DType::Int64: return 8;
    case DType::Float32: case DType::Int32: return 4;
    case DType::Float16: case DType::BFloat16: case DType::Int16: return 2;
    case DType::Int8: case DType::UInt8: case DType::Bool: return 1;
  }
  return 1;
}

int64_t StoredTensor::numel() const {
  uint64_t n = 1;
  for (int64_t e : shape) {
    const std::optional<uint64_t> next = checked::product(n, static_cast<uint64_t>(std::max<int64_t>(e, 0)), Shape::kMaxNumel);
    if (!next) throw InputError("tensor '" + name + "' " + shape_str() + " has more than 2^60 elements");
    n = *next;
  }
  return static_cast<int64_t>(n);
}

std::string StoredTensor::shape_str() const {
  std::string s = "(";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + ")";
}

void check_tensor_bounds(const StoredTensor& t, const FileMap& file) {
  const std::string what = "tensor '" + t.name + "'";
  if (t.shape.size() != t.strides.size()) file.fail(what + ": shape and strides differ in length");
  // (A weight has a handful of dimensions; reading walks every index, so thousands would cost time for nothing.)
  if (t.shape.size() > 64) file.fail(what + ": more than 64 dimensions");
  if (t.storage_offset < 0 || t.storage_numel < 0) file.fail(what + ": negative storage offset or size");
  for (size_t d = 0; d < t.shape.size(); ++d)
    if (t.shape[d] < 0 || t.strides[d] < 0) file.fail(what + ": negative extent or stride");
  const uint64_t item = static_cast<uint64_t>(dtype_size(t.dtype));
  const std::optional<uint64_t> storage_bytes = checked::product(static_cast<uint64_t>(t.storage_numel), item);
  if (!storage_bytes) file.fail(what + ": impossibly large storage");
  file.at(t.storage_begin, *storage_bytes, what.c_str());
  // Every element a tensor has must be stored in the file: a view that repeats one stored float (a
  // stride of 0) 2^62 times would make the reader allocate what the file never held.
  uint64_t numel = 1;
  for (int64_t e : t.shape) {
    const std::optional<uint64_t> next = checked::product(numel, static_cast<uint64_t>(e));
    if (!next || *next > static_cast<uint64_t>(t.storage_numel))
      file.fail(detail::concat(what, " ", t.shape_str(), " has more elements than its storage of ", t.storage_numel,
                               " holds (a repeated view is not a weight)"));
    numel = *next;
  }
  if (numel == 0) return;
  // The last element, offset + Σ (extent − 1)·stride, must lie inside the storage.
  uint64_t last = static_cast<uint64_t>(t.storage_offset);
  for (size_t d = 0; d < t.shape.size(); ++d) {
    const std::optional<uint64_t> reach = checked::product(static_cast<uint64_t>(t.shape[d] - 1), static_cast<uint64_t>(t.strides[d]));
    const std::optional<uint64_t> next = reach ? checked::sum(last, *reach) : std::nullopt;
    if (!next) file.fail(what + ": index overflow");
    last = *next;
  }
  if (last >= static_cast<uint64_t>(t.storage_numel))
    file.fail(detail::concat(what, " ", t.shape_str(), " reaches element ", last, " of a storage of ", t.storage_numel));
}

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string& path) {
  auto file = std::make_unique<FileMap>(path);
  const uint64_t size = file->size();
  if (size == 0) file->fail("empty file");
  const uint8_t* head = file->at(0, std::min<uint64_t>(size, 262), "file header");
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  static const uint8_t kLegacyMagic[15] = {0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46,
                                           0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E};
  if (size >= 10 && read_u64(head) <= 100'000'000 && 8 + read_u64(head) <= size && head[8] == '{') {
    c->format_ = Format::Safetensors;
    c->tensors_ = read_safetensors(*file, &c->metadata_);
  } else if (size >= 10 && head[8] == '{' && read_u64(head) <= 100'000'000) {
    file->fail(detail::concat("safetensors header of ", read_u64(head), " bytes runs past the end of the file (",
                              size, " bytes; truncated?)"));
  } else if (size >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) {
    c->format_ = Format::TorchZip;
    c->tensors_ = read_torch_zip(*file);
  } else if (size >= 262 && std::memcmp(head + 257, "ustar", 5) == 0) {
    file->fail("a PyTorch checkpoint in the pre-2017 TAR format, which gcam does not read; re-save it with "
               "a current PyTorch or download the current file from the manifest");
  } else if (size >= 15 && std::memcmp(head, kLegacyMagic, 15) == 0) {
    c->format_ = Format::TorchLegacy;
    c->tensors_ = read_torch_legacy(*file);
  } else if (size >= 8 && read_u64(head) > 100'000'000 && read_u64(head) < (uint64_t(1) << 40) && size > 8 &&
             head[8] == '{') {
    file->fail("safetensors header length over the 100 MB limit");
  } else {
    file->fail("not a PyTorch or safetensors weight file");
  }
  c->file_ = std::move(file);
  return c;
}

Checkpoint::~Checkpoint() = default;

const std::string& Checkpoint::path() const { return file_->path(); }

const StoredTensor* Checkpoint::find(const std::string& name) const {
  for (const StoredTensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

float half_to_float(uint16_t h) {  // IEEE 754 binary16 → binary32
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const int exponent = (h >> 10) & 0x1F;
  const uint32_t mantissa = h & 0x3FF;
  float magnitude;
  if (exponent == 0) magnitude = std::ldexp(static_cast<float>(mantissa), -24);            // subnormal
  else if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
  else magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  uint32_t bits;
  std::memcpy(&bits, &magnitude, 4);
  bits |= sign;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

float element_as_float(const uint8_t* p, DType dtype) {
  switch (dtype) {
    case DType::Float32: { float f; std::memcpy(&f, p, 4); return f; }
    case DType::Float64: { double d; std::memcpy(&d, p, 8); return static_cast<float>(d); }
    case DType::Float16: { uint16_t h; std::memcpy(&h, p, 2); return half_to_float(h); }
    case DType::BFloat16: { uint32_t bits = uint32_t(p[0] | (p[1] << 8)) << 16; float f; std::memcpy(&f, &bits, 4); return f; }
    case DType::Int64: { int64_t i; std::memcpy(&i, p, 8); return static_cast<float>(i); }
    case DType::Int32: { int32_t i; std::memcpy(&i, p, 4); return static_cast<float>(i); }
    case DType::Int16: { int16_t i; std::memcpy(&i, p, 2); return static_cast<float>(i); }
    case DType::Int8: return static_cast<float>(static_cast<int8_t>(p[0]));
    case DType::UInt8: return static_cast<float>(p[0]);
    case DType::Bool: return p[0] ? 1.0f : 0.0f;
  }
  return 0.0f;
}

}  // namespace

Tensor Checkpoint::read_float(const StoredTensor& t, const Shape& as) const {
  Tensor out = Tensor::empty(as);
  read_into(t, out);
  return out;
}

void Checkpoint::read_into(const StoredTensor& t, Tensor& out) const {
  GCAM_CHECK(out.numel() == t.numel() && out.device() == Device::CPU, path(), ": tensor '", t.name, "' ",
             t.shape_str(), " cannot be read into ", out.shape().str());
  const int64_t n = t.numel();
  const uint64_t item = static_cast<uint64_t>(dtype_size(t.dtype));
  const uint8_t* storage = file_->at(t.storage_begin, static_cast<uint64_t>(t.storage_numel) * item, "tensor data");
  bool contiguous = true;  // row-major with no gaps
  for (int64_t d = static_cast<int64_t>(t.shape.size()) - 1, expect = 1; d >= 0; --d) {
    if (t.shape[d] != 1 && t.strides[d] != expect) contiguous = false;
    expect *= t.shape[d];
  }
  float* dst = out.data();
  if (contiguous && t.dtype == DType::Float32) {
    // In 16 MB pieces, each released as soon as it is copied: a 411 MB tensor (VGG's first classifier
    // layer) never has both its file pages and its copy resident at once.
    constexpr int64_t kPiece = int64_t{4} << 20;  // floats
    const uint64_t begin = t.storage_begin + static_cast<uint64_t>(t.storage_offset) * item;
    for (int64_t done = 0; done < n; done += kPiece) {
      const int64_t count = std::min(kPiece, n - done);
      std::memcpy(dst + done, storage + (t.storage_offset + done) * item, static_cast<size_t>(count) * 4);
      file_->release(begin + static_cast<uint64_t>(done) * 4, static_cast<uint64_t>(count) * 4);
    }
  } else {
    // A general strided read: walk the multi-index in row-major order.
    std::vector<int64_t> index(t.shape.size(), 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t element = t.storage_offset;
      for (size_t d = 0; d < index.size(); ++d) element += index[d] * t.strides[d];
      dst[i] = element_as_float(storage + element * item, t.dtype);
      for (size_t d = index.size(); d-- > 0;) {
        if (++index[d] < t.shape[d]) break;
        index[d] = 0;
      }
    }
    file_->release(t.storage_begin + t.storage_offset * item, static_cast<uint64_t>(n) * item);
  }
}

}  // namespace gcam::weights
