// pickle.h — a restricted unpickler for PyTorch state dicts (internal).
//
// It implements the opcodes that torch.save writes (protocols 2–4, and the Python-2 forms of old legacy
// files; WEIGHT-FORMATS.md §4) and builds plain values. GLOBAL only records a name: nothing is ever
// imported or called. REDUCE and BUILD accept a short whitelist (OrderedDict, torch._utils'
// _rebuild_tensor(_v2) and _rebuild_parameter, torch.<X>Tensor placeholders); anything else — os.system,
// a torch.nn module, an unknown rebuild function — is an error naming the global.
//
// What a hostile stream can make it do is bounded:
//   depth    values nest at most kMaxDepth deep (a state dict nests 4), so nothing that walks or frees
//            them recurses far;
//   shape    a container cannot change once it is inside another, and cannot hold itself: the values
//            form a tree with shared leaves, never a cycle (Python writes a recursive structure that
//            way, and no state dict is one);
//   memory   what the values, the stack, the marks and the memo take is counted as they are made, and
//            may not pass 64 MiB + 2 × the bytes the stream could come from;
//   time     each opcode is O(1) amortised, a dict's keys included (a hash index, not a scan).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gcam::weights {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

// A storage, as a persistent id names it: element type (from `torch.<X>Storage`), key, element count,
// and, for legacy views, the sub-range of the root storage.
struct StorageRef {
  std::string dtype;  // "FloatStorage", "LongStorage", …
  std::string key;
  int64_t numel = 0;
  int64_t view_offset = 0;  // legacy views: the view is root[view_offset, view_offset + view_numel)
  int64_t view_numel = -1;  // −1: no view, the whole storage
};

// A tensor rebuilt from (storage, storage_offset, size, stride).
struct TensorRef {
  std::shared_ptr<StorageRef> storage;
  int64_t storage_offset = 0;
  std::vector<int64_t> size, stride;
  bool placeholder = false;  // a 0.1.10 `torch.FloatTensor()` waiting for its BUILD
  std::string placeholder_type;
};

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor, Object };
  Kind kind = Kind::None;
  int64_t integer = 0;  // Bool, Int
  double real = 0.0;    // Float
  std::string text;     // String, Bytes, Global and Object: the module
  std::string name;     // Global and Object: the class's name
  std::vector<ValuePtr> items;                           // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;    // Dict, in insertion order; Object: its attributes
  std::shared_ptr<StorageRef> storage;                   // Storage
  std::shared_ptr<TensorRef> tensor;                     // Tensor
  int depth = 1;        // 1 + the deepest value inside (see the bounds above)
  bool nested = false;  // inside a tuple, list or dict: it may no longer change
  std::unique_ptr<std::unordered_map<std::string, size_t>> key_index;  // Dict: string key → entry

  const char* kind_name() const;
};

constexpr int kMaxDepth = 100;

// Turns a persistent id (the tuple after BINPERSID) into a value; supplied by the container format.
using PersistentLoad = std::function<ValuePtr(const ValuePtr& pid)>;

struct PickleResult {
  ValuePtr value;
  uint64_t end;  // offset just past STOP: legacy files hold several pickles back to back
};

// Unpickles the stream starting at `begin` of `bytes` (length `size`). Errors are InputError
// "<where>: <what>" with `where` naming the file.
//
// objects_as_data: an instance of a plain Python class (NEWOBJ of a class with no arguments, then BUILD
// with its __dict__, as pickle writes a captioning tutorial's Vocabulary) becomes an Object value: the
// class's name as text and its attributes as entries. The class is named, never looked up or run; REDUCE
// keeps its whitelist.
PickleResult unpickle(const uint8_t* bytes, uint64_t size, uint64_t begin, const std::string& where,
                      const PersistentLoad& persistent_load, bool objects_as_data = false);

}  // namespace gcam::weights
