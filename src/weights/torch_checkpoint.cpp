// torch_checkpoint.cpp — PyTorch's two pickled checkpoint formats (WEIGHT-FORMATS.md §2 and §3).
//
//   zip     <a>/data.pkl (the pickled state dict) + one member <a>/data/<key> per storage
//   legacy  five pickles back to back (magic number, protocol 1001, sys_info, the state dict, the list
//           of storage keys), then each storage in that list's order as an int64 element count and
//           the raw elements
// In both, a tensor is pickled as _rebuild_tensor(_v2)(storage, offset, size, stride), its storage as a
// persistent id naming the element type and key; here they become StoredTensors that point into the file.
#include <map>

#include "gcam/checked.h"
#include "gcam/error.h"
#include "pickle.h"
#include "readers.h"
#include "zip.h"

namespace gcam::weights {

namespace {

DType storage_dtype(const std::string& storage_type, const FileMap& file) {
  static const std::map<std::string, DType> types = {
      {"FloatStorage", DType::Float32}, {"DoubleStorage", DType::Float64}, {"HalfStorage", DType::Float16},
      {"BFloat16Storage", DType::BFloat16}, {"LongStorage", DType::Int64}, {"IntStorage", DType::Int32},
      {"ShortStorage", DType::Int16}, {"CharStorage", DType::Int8}, {"ByteStorage", DType::UInt8},
      {"BoolStorage", DType::Bool}};
  auto it = types.find(storage_type);
  if (it == types.end()) file.fail("unsupported storage type torch." + storage_type);
  return it->second;
}

// A persistent id's storage type: GLOBAL torch <X>Storage.
std::string storage_type_of(const ValuePtr& v, const FileMap& file) {
  if (v->kind != Value::Kind::Global || v->text != "torch" || v->name.size() < 8 ||
      v->name.compare(v->name.size() - 7, 7, "Storage") != 0)
    file.fail("a storage's type is not torch.<X>Storage");
  storage_dtype(v->name, file);  // known, or an error now
  return v->name;
}

const std::string& string_of(const ValuePtr& v, const char* what, const FileMap& file) {
  if (v->kind != Value::Kind::String) file.fail(std::string(what) + " is a " + v->kind_name() + ", not a string");
  return v->text;
}

int64_t int_of(const ValuePtr& v, const char* what, const FileMap& file) {
  if (v->kind != Value::Kind::Int) file.fail(std::string(what) + " is a " + v->kind_name() + ", not an integer");
  return v->integer;
}

// The storage a persistent id ('storage', torch.<X>Storage, key, location, numel[, view]) names; the
// zip format's id has 5 elements, the legacy format's 6 (the view is read by the legacy reader).
ValuePtr storage_from_persistent_id(const ValuePtr& pid, size_t elements, const FileMap& file) {
  if (pid->kind != Value::Kind::Tuple || pid->items.size() != elements || pid->items[0]->kind != Value::Kind::String ||
      pid->items[0]->text != "storage")
    file.fail("unexpected persistent id in the pickled state dict");
  auto v = std::make_shared<Value>();
  v->kind = Value::Kind::Storage;
  v->storage = std::make_shared<StorageRef>();
  v->storage->dtype = storage_type_of(pid->items[1], file);
  v->storage->key = string_of(pid->items[2], "a storage key", file);
  v->storage->numel = int_of(pid->items[4], "a storage size", file);
  if (v->storage->numel < 0) file.fail("negative storage size");
  return v;
}

// The state dict inside what was pickled: the object itself, or a training checkpoint's
// "state_dict" / "model" entry.
const Value& state_dict_of(const Value& top, const FileMap& file) {
  if (top.kind != Value::Kind::Dict) file.fail(std::string("the checkpoint holds a ") + top.kind_name() + ", not a state dict");
  for (const char* wrapper : {"state_dict", "model"})
    for (const auto& [key, value] : top.entries)
      if (key->kind == Value::Kind::String && key->text == wrapper && value->kind == Value::Kind::Dict) return *value;
  return top;
}

struct StorageLocation {
  uint64_t begin;  // file offset of element 0
  int64_t numel;
};

template <typename Locate>
std::vector<StoredTensor> collect_tensors(const Value& top, const FileMap& file, Locate locate) {
  std::vector<StoredTensor> tensors;
  for (const auto& [key, value] : state_dict_of(top, file).entries) {
    const std::string& name = string_of(key, "a state dict key", file);
    if (value->kind != Value::Kind::Tensor || value->tensor->placeholder || !value->tensor->storage)
      file.fail("entry '" + name + "' is a " + value->kind_name() + ", not a tensor");
    const TensorRef& ref = *value->tensor;
    StoredTensor t;
    t.name = name;
    t.dtype = storage_dtype(ref.storage->dtype, file);
    t.shape = ref.size;
    t.strides = ref.stride;
    t.storage_offset = ref.storage_offset;
    StorageLocation where = locate(*ref.storage);
    t.storage_begin = where.begin;
    t.storage_numel = where.numel;
    check_tensor_bounds(t, file);
    tensors.push_back(std::move(t));
  }
  return tensors;
}

}  // namespace

std::vector<StoredTensor> read_torch_zip(const FileMap& file) {
  const std::vector<ZipEntry> entries = read_zip_directory(file);
  // The archive's folder: the one whose data.pkl this is (its name depends on how the file was saved).
  const ZipEntry* pickle = nullptr;
  std::string prefix;
  for (const ZipEntry& e : entries) {
    const size_t slash = e.name.find('/');
    if (slash != std::string::npos && slash > 0 && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      if (pickle) file.fail("zip archive holds more than one data.pkl");
      pickle = &e;
      prefix = e.name.substr(0, slash + 1);
    }
  }
  if (!pickle) file.fail("zip archive without a <name>/data.pkl: not a PyTorch checkpoint");
  std::map<std::string, const ZipEntry*> members;
  for (const ZipEntry& e : entries) members[e.name] = &e;
  if (auto it = members.find(prefix + "byteorder"); it != members.end()) {
    const ZipEntry& b = *it->second;
    const uint8_t* text = file.at(b.data_offset, b.size, "byteorder");
    if (b.method != 0 || std::string(reinterpret_cast<const char*>(text), b.size) != "little")
      file.fail("big-endian checkpoints are not supported");
  }
  if (pickle->method != 0) file.fail("data.pkl is compressed (only stored members are supported)");

  PersistentLoad load = [&](const ValuePtr& pid) { return storage_from_persistent_id(pid, 5, file); };
  const uint8_t* bytes = file.at(pickle->data_offset, pickle->size, "data.pkl");
  const ValuePtr top = unpickle(bytes, pickle->size, 0, file.path() + " (data.pkl)", load).value;

  return collect_tensors(*top, file, [&](const StorageRef& s) {
    auto it = members.find(prefix + "data/" + s.key);
    if (it == members.end()) file.fail("storage data/" + s.key + " is missing from the archive");
    const ZipEntry& member = *it->second;
    if (member.method != 0) file.fail("storage data/" + s.key + " is compressed (only stored members are supported)");
    const int64_t item = dtype_size(storage_dtype(s.dtype, file));
    if (s.numel < 0 || static_cast<uint64_t>(s.numel) > member.size / item || member.size != uint64_t(s.numel) * item)
      file.fail(detail::concat("storage data/", s.key, " holds ", member.size, " bytes, expected ", s.numel, " × ", item));
    return StorageLocation{member.data_offset, s.numel};
  });
}

std::vector<StoredTensor> read_torch_legacy(const FileMap& file) {
  const uint8_t* bytes = file.at(0, file.size(), "file");
  const uint64_t size = file.size();
  const std::string& where = file.path();
  // 1. Magic number 0x1950a86a20f9469cfc6c (10 bytes, little-endian), 2. protocol 1001, 3. sys_info.
  PickleResult magic = unpickle(bytes, size, 0, where, nullptr);
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  if (magic.value->kind != Value::Kind::Int || magic.value->text != kMagic) file.fail("bad magic number: not a PyTorch checkpoint");
  PickleResult protocol = unpickle(bytes, size, magic.end, where, nullptr);
  if (protocol.value->kind != Value::Kind::Int || protocol.value->integer != 1001)
    file.fail("unsupported legacy protocol version");
  PickleResult sys_info = unpickle(bytes, size, protocol.end, where, nullptr);
  if (sys_info.value->kind == Value::Kind::Dict)
    for (const auto& [key, value] : sys_info.value->entries)
      if (key->kind == Value::Kind::String && key->text == "little_endian" && value->kind == Value::Kind::Bool &&
          !value->integer)
        file.fail("big-endian checkpoints are not supported");

  // 4. The state dict. Persistent id: ('storage', type, root_key, location, numel, view) where view
  // is None or (view_key, offset, numel) inside the root storage.
  struct Root {
    DType dtype;
    int64_t numel;
    uint64_t begin = 0;
    bool found = false;
  };
  std::map<std::string, Root> roots;
  PersistentLoad load = [&](const ValuePtr& pid) {
    ValuePtr v = storage_from_persistent_id(pid, 6, file);
    StorageRef& s = *v->storage;
    const DType dtype = storage_dtype(s.dtype, file);
    auto [it, inserted] = roots.emplace(s.key, Root{dtype, s.numel});
    if (!inserted && (it->second.dtype != dtype || it->second.numel != s.numel))
      file.fail("storage " + s.key + " is described twice, differently");
    const ValuePtr& view = pid->items[5];
    if (view->kind == Value::Kind::Tuple && view->items.size() == 3) {
      s.view_offset = int_of(view->items[1], "a view offset", file);
      s.view_numel = int_of(view->items[2], "a view size", file);
      if (s.view_offset < 0 || s.view_numel < 0 || s.view_offset > s.numel || s.view_numel > s.numel - s.view_offset)
        file.fail("storage view outside storage " + s.key);
    } else if (view->kind != Value::Kind::None) {
      file.fail("unexpected storage view description");
    }
    return v;
  };
  PickleResult main = unpickle(bytes, size, sys_info.end, where, load);

  // 5. The storage keys, then the storages in that order.
  PickleResult keys = unpickle(bytes, size, main.end, where, nullptr);
  if (keys.value->kind != Value::Kind::List) file.fail("the legacy storage key list is missing");
  uint64_t at = keys.end;
  for (const ValuePtr& k : keys.value->items) {
    const std::string& key = string_of(k, "a storage key", file);
    auto it = roots.find(key);
    if (it == roots.end()) file.fail("storage " + key + " is listed but no tensor uses it");
    Root& root = it->second;
    const int64_t count = static_cast<int64_t>(read_u64(file.at(at, 8, "a storage's element count")));
    if (count != root.numel) file.fail(detail::concat("storage ", key, " holds ", count, " elements, expected ", root.numel));
    const std::optional<uint64_t> bytes = checked::product(static_cast<uint64_t>(count), static_cast<uint64_t>(dtype_size(root.dtype)));
    if (count < 0 || !bytes || !checked::fits(at + 8, *bytes, size))
      file.fail("storage " + key + " runs past the end of the file (truncated?)");
    root.begin = at + 8;
    root.found = true;
    at += 8 + *bytes;
  }
  if (at != size) file.fail(detail::concat(size - at, " unexpected bytes after the last storage"));

  return collect_tensors(*main.value, file, [&](const StorageRef& s) {
    const Root& root = roots.at(s.key);
    if (!root.found) file.fail("storage " + s.key + " is not in the file");
    if (s.view_numel < 0) return StorageLocation{root.begin, root.numel};
    return StorageLocation{root.begin + uint64_t(s.view_offset) * dtype_size(root.dtype), s.view_numel};
  });
}

}  // namespace gcam::weights
