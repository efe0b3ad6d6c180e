// safetensors.cpp — the safetensors format (WEIGHT-FORMATS.md §5), read and written.
//
//   u64 N | N bytes of JSON: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
//   "__metadata__": {string: string}} | the byte buffer (offsets are relative to its start)
// Validation follows the reference reader: header ≤ 100 MB and inside the file; known dtypes; offsets
// that tile the buffer exactly, from 0 with no holes, and match shape × element size; no trailing bytes.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_set>

#include "gcam/checked.h"
#include "gcam/error.h"
#include "json.h"
#include "readers.h"

namespace gcam::weights {

namespace {

constexpr uint64_t kMaxHeader = 100'000'000;

bool dtype_from_code(const std::string& code, DType* out) {
  static const std::map<std::string, DType> codes = {
      {"F32", DType::Float32}, {"F64", DType::Float64}, {"F16", DType::Float16}, {"BF16", DType::BFloat16},
      {"I64", DType::Int64},   {"I32", DType::Int32},   {"I16", DType::Int16},   {"I8", DType::Int8},
      {"U8", DType::UInt8},    {"BOOL", DType::Bool}};
  auto it = codes.find(code);
  if (it == codes.end()) return false;
  *out = it->second;
  return true;
}

uint64_t non_negative_integer(const Json& v, const std::string& what, const FileMap& file) {
  if (v.kind != Json::Kind::Number || !v.is_integer || v.integer < 0) file.fail(what + " is not a non-negative integer");
  return static_cast<uint64_t>(v.integer);
}

}  // namespace

std::vector<StoredTensor> read_safetensors(const FileMap& file,
                                           std::vector<std::pair<std::string, std::string>>* metadata) {
  const uint64_t header_size = read_u64(file.at(0, 8, "safetensors header length"));
  if (header_size > kMaxHeader) file.fail(detail::concat("safetensors header of ", header_size, " bytes is over the 100 MB limit"));
  const char* header = reinterpret_cast<const char*>(file.at(8, header_size, "safetensors header"));
  if (header_size == 0 || header[0] != '{') file.fail("safetensors header does not start with '{'");
  const uint64_t buffer_begin = 8 + header_size, buffer_size = file.size() - buffer_begin;

  // The header is read one field at a time (json.h): a tensor's entry becomes a StoredTensor and its JSON
  // is freed, so the header's cost follows the tensors it describes, not its parsed form.
  std::vector<StoredTensor> tensors;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [begin, end) per tensor, for the tiling check
  std::unordered_set<std::string> names;               // each tensor once (a hash: 60 000 names are no slower)
  parse_json_fields(header, header_size, file.path() + " (safetensors header)", [&](std::string name, Json entry) {
    if (name == "__metadata__") {
      if (entry.kind != Json::Kind::Object) file.fail("__metadata__ is not an object");
      for (auto& [key, value] : entry.fields) {
        if (value.kind != Json::Kind::String) file.fail("__metadata__ value of '" + key + "' is not a string");
        if (metadata) metadata->emplace_back(key, std::move(value.text));
      }
      return;
    }
    if (!names.insert(name).second) file.fail("tensor '" + name + "' appears twice");
    const Json* dtype = entry.find("dtype");
    const Json* shape = entry.find("shape");
    const Json* offsets = entry.find("data_offsets");
    if (entry.kind != Json::Kind::Object || !dtype || !shape || !offsets)
      file.fail("tensor '" + name + "' lacks dtype, shape or data_offsets");
    StoredTensor t;
    t.name = name;
    if (dtype->kind != Json::Kind::String || !dtype_from_code(dtype->text, &t.dtype))
      file.fail("tensor '" + name + "' has unsupported dtype " + (dtype->kind == Json::Kind::String ? dtype->text : "?"));
    if (shape->kind != Json::Kind::Array || shape->items.size() > 8) file.fail("tensor '" + name + "' has a bad shape");
    uint64_t numel = 1;
    for (const Json& d : shape->items) {
      const uint64_t extent = non_negative_integer(d, "a shape extent of '" + name + "'", file);
      const std::optional<uint64_t> next = checked::product(numel, extent, static_cast<uint64_t>(Shape::kMaxNumel));
      if (!next) file.fail("tensor '" + name + "' is impossibly large");
      numel = *next;
      t.shape.push_back(static_cast<int64_t>(extent));
    }
    if (offsets->kind != Json::Kind::Array || offsets->items.size() != 2) file.fail("tensor '" + name + "' has bad data_offsets");
    const uint64_t begin = non_negative_integer(offsets->items[0], "data_offsets of '" + name + "'", file);
    const uint64_t end = non_negative_integer(offsets->items[1], "data_offsets of '" + name + "'", file);
    if (end < begin || end > buffer_size) file.fail("tensor '" + name + "' has data_offsets outside the file");
    if (end - begin != numel * dtype_size(t.dtype))
      file.fail(detail::concat("tensor '", name, "' has ", end - begin, " bytes for shape ", t.shape_str(), " of ", dtype_name(t.dtype)));
    // Contiguous, row-major.
    t.strides.assign(t.shape.size(), 1);
    for (size_t d = t.shape.size(); d-- > 1;) t.strides[d - 1] = t.strides[d] * std::max<int64_t>(t.shape[d], 1);
    t.storage_begin = buffer_begin + begin;
    t.storage_numel = static_cast<int64_t>(numel);
    ranges.emplace_back(begin, end);
    tensors.push_back(std::move(t));
  });
  // The buffer must be tiled exactly by the tensors, from 0, with no holes and nothing after.
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin != covered) file.fail(detail::concat("safetensors buffer has a hole or overlap at byte ", covered));
    covered = end;
  }
  if (covered != buffer_size) file.fail(detail::concat(buffer_size - covered, " unexpected bytes after the last tensor"));
  for (const StoredTensor& t : tensors) check_tensor_bounds(t, file);
  return tensors;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata) {
  auto escape = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\', out += c;
      else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else out += c;
    }
    return out;
  };
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].first < tensors[b].first; });

  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i)
      header += (i ? "," : "") + ("\"" + escape(metadata[i].first) + "\":\"" + escape(metadata[i].second) + "\"");
    header += "}";
  }
  uint64_t offset = 0;
  for (size_t i : order) {
    const Tensor& t = tensors[i].second;
    GCAM_CHECK(t.device() == Device::CPU, path, ": only CPU tensors can be written");
    std::string shape;
    for (int d = 0; d < t.ndim(); ++d) shape += (d ? "," : "") + std::to_string(t.size(d));
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * 4;
    header += (header.size() > 1 ? "," : "") + ("\"" + escape(tensors[i].first) + "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
                                                "],\"data_offsets\":[" + std::to_string(offset) + "," +
                                                std::to_string(offset + bytes) + "]}");
    offset += bytes;
  }
  header += "}";
  while (header.size() % 8) header += ' ';  // the buffer starts 8-byte aligned

  const std::string temporary = path + ".partial";
  FILE* out = std::fopen(temporary.c_str(), "wb");
  GCAM_CHECK(out, path, ": cannot write: ", std::strerror(errno));
  bool ok = true;
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(uint64_t(header.size()) >> (8 * i));
  ok = ok && std::fwrite(length, 1, 8, out) == 8;
  ok = ok && std::fwrite(header.data(), 1, header.size(), out) == header.size();
  for (size_t i : order) {
    const Tensor& t = tensors[i].second;
    const size_t bytes = static_cast<size_t>(t.numel()) * 4;
    ok = ok && std::fwrite(t.data(), 1, bytes, out) == bytes;
  }
  ok = (std::fclose(out) == 0) && ok;
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw InputError(path + ": writing failed: " + std::strerror(errno));
  }
}

}  // namespace gcam::weights
