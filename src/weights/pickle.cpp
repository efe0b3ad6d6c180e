// pickle.cpp — the restricted unpickler (see pickle.h; opcodes from Python's pickletools and
// WEIGHT-FORMATS.md §4). Nothing here imports, looks up or calls anything named by the stream.
#include "pickle.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "file_map.h"
#include "gcam/error.h"

namespace gcam::weights {

const char* Value::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
    case Kind::Object: return "object";
  }
  return "?";
}

namespace {

// The memory the values may take (pickle.h): a floor far above any state dict's (ResNet-152's 930
// tensors take about 4 MB), plus twice the bytes left in the file.
constexpr uint64_t kBudgetFloor = uint64_t{64} << 20;
// What the accounting charges: a value (with its shared_ptr control block), a slot in a container or on
// the stack, a memo entry, a dict key's index entry, a mark.
constexpr uint64_t kValueCost = sizeof(Value) + 16, kSlotCost = sizeof(ValuePtr), kMemoCost = 64, kIndexCost = 64,
                   kMarkCost = sizeof(size_t);

class Unpickler {
 public:
  Unpickler(const uint8_t* bytes, uint64_t size, uint64_t begin, const std::string& where,
            const PersistentLoad& persistent_load, bool objects_as_data)
      : bytes_(bytes), size_(size), pos_(begin), where_(where), persistent_load_(persistent_load),
        objects_as_data_(objects_as_data), budget_(kBudgetFloor + 2 * (size - std::min(begin, size))) {}

  PickleResult run() {
    while (true) {
      const uint64_t at = pos_;
      const uint8_t op = take(1)[0];
      if (op == '.') {  // STOP
        if (stack_.size() != 1) fail(at, "STOP with a stack of " + std::to_string(stack_.size()) + " values");
        return {stack_.back(), pos_};
      }
      step(op, at);
    }
  }

 private:
  [[noreturn]] void fail(uint64_t at, const std::string& what) const {
    throw InputError(detail::concat(where_, ": pickle byte ", at, ": ", what));
  }

  // Counts `bytes` more against the budget (pickle.h).
  void charge(uint64_t bytes, uint64_t at) {
    spent_ += bytes;
    if (spent_ > budget_)
      fail(at, detail::concat("the pickled values would take more than ", budget_ >> 20, " MiB (",
                              "64 MiB + twice the file's remaining bytes)"));
  }

  ValuePtr make(Value::Kind kind) {
    charge(kValueCost, pos_);
    auto v = std::make_shared<Value>();
    v->kind = kind;
    return v;
  }

  ValuePtr make_int(int64_t i) {
    auto v = make(Value::Kind::Int);
    v->integer = i;
    return v;
  }

  ValuePtr make_string(std::string s, Value::Kind kind = Value::Kind::String) {
    charge(s.size(), pos_);
    auto v = make(kind);
    v->text = std::move(s);
    return v;
  }

  // `child` goes inside `container`, which must still be free to change (pickle.h's shape rule).
  void adopt(Value& container, Value& child, uint64_t at) {
    if (container.nested) fail(at, "a container changed after it was put inside another (a recursive structure, not a state dict)");
    if (&container == &child) fail(at, "a container inside itself (a recursive structure, not a state dict)");
    charge(kSlotCost, at);
    child.nested = true;
    container.depth = std::max(container.depth, child.depth + 1);
    if (container.depth > kMaxDepth) fail(at, detail::concat("values nested more than ", kMaxDepth, " deep"));
  }

  // A tuple or list of `items`, each adopted.
  ValuePtr make_sequence(Value::Kind kind, std::vector<ValuePtr> items, uint64_t at) {
    auto v = make(kind);
    for (const ValuePtr& item : items) adopt(*v, *item, at);
    v->items = std::move(items);
    return v;
  }

  const uint8_t* take(uint64_t n) {
    if (pos_ > size_ || n > size_ - pos_) fail(pos_, "truncated (the stream ends inside an opcode)");
    const uint8_t* p = bytes_ + pos_;
    pos_ += n;
    return p;
  }

  std::string take_line() {  // text arguments end with '\n'
    const uint64_t start = pos_;
    while (pos_ < size_ && bytes_[pos_] != '\n') ++pos_;
    if (pos_ >= size_) fail(start, "truncated text argument");
    std::string line(reinterpret_cast<const char*>(bytes_ + start), pos_ - start);
    ++pos_;
    return line;
  }

  std::string take_string(uint64_t n) {
    const uint8_t* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }

  void push(ValuePtr v) {
    charge(kSlotCost, pos_);
    stack_.push_back(std::move(v));
  }

  ValuePtr pop(uint64_t at) {
    if (stack_.size() <= base()) fail(at, "stack underflow");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }

  ValuePtr& top(uint64_t at) {
    if (stack_.size() <= base()) fail(at, "stack underflow");
    return stack_.back();
  }

  size_t base() const { return marks_.empty() ? 0 : marks_.back(); }

  std::vector<ValuePtr> pop_to_mark(uint64_t at) {
    if (marks_.empty()) fail(at, "no MARK to pop to");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }

  void memo_put(uint64_t index, uint64_t at) {
    auto [it, inserted] = memo_.try_emplace(index);
    if (inserted) charge(kMemoCost, at);
    it->second = top(at);
  }

  ValuePtr memo_get(uint64_t index, uint64_t at) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail(at, "memo entry " + std::to_string(index) + " was never stored");
    return it->second;
  }

  static int64_t parse_int(const std::string& text, bool* ok) {
    std::string t = text;
    if (!t.empty() && t.back() == 'L') t.pop_back();  // Python 2 longs
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    *ok = !t.empty() && end && *end == '\0' && errno == 0;
    return v;
  }

  // dict[key] = value; a string key already there keeps its place and takes the new value, as in Python.
  void set_item(Value& dict, ValuePtr key, ValuePtr value, uint64_t at) {
    if (dict.kind != Value::Kind::Dict) fail(at, std::string("SETITEM on a ") + dict.kind_name());
    adopt(dict, *key, at);
    adopt(dict, *value, at);
    if (key->kind == Value::Kind::String) {
      if (!dict.key_index) dict.key_index = std::make_unique<std::unordered_map<std::string, size_t>>();
      const auto [it, inserted] = dict.key_index->try_emplace(key->text, dict.entries.size());
      if (!inserted) {
        dict.entries[it->second].second = std::move(value);
        return;
      }
      charge(kIndexCost + key->text.size(), at);
    }
    dict.entries.emplace_back(std::move(key), std::move(value));
  }

  // REDUCE: callable(*args), for the whitelisted callables only.
  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args, uint64_t at) {
    if (callable->kind != Value::Kind::Global) fail(at, std::string("REDUCE of a ") + callable->kind_name());
    if (args->kind != Value::Kind::Tuple) fail(at, "REDUCE arguments are not a tuple");
    const std::string& module = callable->text;
    const std::string& name = callable->name;
    const auto& a = args->items;
    if (module == "collections" && name == "OrderedDict") {
      auto dict = make(Value::Kind::Dict);
      if (a.empty()) return dict;
      if (a.size() == 1 && (a[0]->kind == Value::Kind::List || a[0]->kind == Value::Kind::Tuple)) {
        for (const ValuePtr& pair : a[0]->items) {  // Python 2: OrderedDict([[k, v], …])
          if ((pair->kind != Value::Kind::List && pair->kind != Value::Kind::Tuple) || pair->items.size() != 2)
            fail(at, "OrderedDict argument is not a list of pairs");
          set_item(*dict, pair->items[0], pair->items[1], at);
        }
        return dict;
      }
      fail(at, "unexpected OrderedDict arguments");
    }
    if (module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor")) {
      const bool v2 = name == "_rebuild_tensor_v2";
      if (v2 ? (a.size() != 6 && a.size() != 7) : a.size() != 4)
        fail(at, name + " with " + std::to_string(a.size()) + " arguments");
      return make_tensor(a[0], a[1], a[2], a[3], at);
    }
    if (module == "torch._utils" && name == "_rebuild_parameter") {
      if (a.size() != 3 || a[0]->kind != Value::Kind::Tensor) fail(at, "unexpected _rebuild_parameter arguments");
      return a[0];
    }
    if (module == "torch" && name.size() > 6 && name.compare(name.size() - 6, 6, "Tensor") == 0 && a.empty()) {
      auto v = make(Value::Kind::Tensor);  // PyTorch 0.1.10: torch.FloatTensor(), filled by BUILD
      v->tensor = std::make_shared<TensorRef>();
      v->tensor->placeholder = true;
      v->tensor->placeholder_type = name;
      return v;
    }
    fail(at, "refusing to call " + module + "." + name + " (not part of a state dict; nothing is executed)");
  }

  std::vector<int64_t> int_tuple(const ValuePtr& v, const char* what, uint64_t at) {
    if (v->kind != Value::Kind::Tuple && v->kind != Value::Kind::List) fail(at, std::string(what) + " is not a tuple");
    std::vector<int64_t> out;
    for (const ValuePtr& item : v->items) {
      if (item->kind != Value::Kind::Int) fail(at, std::string(what) + " holds a " + item->kind_name());
      out.push_back(item->integer);
    }
    return out;
  }

  ValuePtr make_tensor(const ValuePtr& storage, const ValuePtr& offset, const ValuePtr& size,
                       const ValuePtr& stride, uint64_t at) {
    if (storage->kind != Value::Kind::Storage) fail(at, std::string("tensor storage is a ") + storage->kind_name());
    if (offset->kind != Value::Kind::Int) fail(at, "tensor storage offset is not an int");
    auto v = make(Value::Kind::Tensor);
    v->tensor = std::make_shared<TensorRef>();
    v->tensor->storage = storage->storage;
    v->tensor->storage_offset = offset->integer;
    v->tensor->size = int_tuple(size, "tensor size", at);
    v->tensor->stride = int_tuple(stride, "tensor stride", at);
    if (v->tensor->size.size() != v->tensor->stride.size()) fail(at, "tensor size and stride differ in length");
    return v;
  }

  void step(uint8_t op, uint64_t at) {
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t protocol = take(1)[0];
        if (protocol > 5) fail(at, "unsupported pickle protocol " + std::to_string(protocol));
        return;
      }
      case 0x95: take(8); return;  // FRAME: a length hint
      case '(':  // MARK
        charge(kMarkCost, at);
        marks_.push_back(stack_.size());
        return;
      case 'c': {  // GLOBAL: a name, nothing more
        auto g = make(Value::Kind::Global);
        g->text = take_line();
        g->name = take_line();
        charge(g->text.size() + g->name.size(), at);
        push(g);
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        ValuePtr name = pop(at), module = pop(at);
        if (name->kind != Value::Kind::String || module->kind != Value::Kind::String) fail(at, "STACK_GLOBAL of non-strings");
        auto g = make(Value::Kind::Global);
        g->text = module->text;
        g->name = name->text;
        push(g);
        return;
      }
      case 'q': memo_put(take(1)[0], at); return;            // BINPUT
      case 'r': memo_put(read_u32(take(4)), at); return;     // LONG_BINPUT
      case 0x94: memo_put(memo_.size(), at); return;          // MEMOIZE
      case 'p': {                                             // PUT
        bool ok;
        const int64_t i = parse_int(take_line(), &ok);
        if (!ok || i < 0) fail(at, "bad PUT index");
        memo_put(static_cast<uint64_t>(i), at);
        return;
      }
      case 'h': push(memo_get(take(1)[0], at)); return;         // BINGET
      case 'j': push(memo_get(read_u32(take(4)), at)); return;  // LONG_BINGET
      case 'g': {                                               // GET
        bool ok;
        const int64_t i = parse_int(take_line(), &ok);
        if (!ok || i < 0) fail(at, "bad GET index");
        push(memo_get(static_cast<uint64_t>(i), at));
        return;
      }
      case ')': push(make(Value::Kind::Tuple)); return;  // EMPTY_TUPLE
      case 't': push(make_sequence(Value::Kind::Tuple, pop_to_mark(at), at)); return;  // TUPLE
      case 0x85: case 0x86: case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
        std::vector<ValuePtr> items(op - 0x84);
        for (size_t i = items.size(); i-- > 0;) items[i] = pop(at);
        push(make_sequence(Value::Kind::Tuple, std::move(items), at));
        return;
      }
      case '}': push(make(Value::Kind::Dict)); return;  // EMPTY_DICT
      case 'd': {                                       // DICT
        std::vector<ValuePtr> items = pop_to_mark(at);
        if (items.size() % 2) fail(at, "DICT with an odd number of items");
        auto d = make(Value::Kind::Dict);
        for (size_t i = 0; i < items.size(); i += 2) set_item(*d, items[i], items[i + 1], at);
        push(d);
        return;
      }
      case 's': {  // SETITEM
        ValuePtr value = pop(at), key = pop(at);
        set_item(*top(at), key, value, at);
        return;
      }
      case 'u': {  // SETITEMS
        std::vector<ValuePtr> items = pop_to_mark(at);
        if (items.size() % 2) fail(at, "SETITEMS with an odd number of items");
        Value& dict = *top(at);
        for (size_t i = 0; i < items.size(); i += 2) set_item(dict, items[i], items[i + 1], at);
        return;
      }
      case ']': push(make(Value::Kind::List)); return;  // EMPTY_LIST
      case 'l': push(make_sequence(Value::Kind::List, pop_to_mark(at), at)); return;  // LIST
      case 'a': {  // APPEND
        ValuePtr v = pop(at);
        Value& list = *top(at);
        if (list.kind != Value::Kind::List) fail(at, std::string("APPEND to a ") + list.kind_name());
        adopt(list, *v, at);
        list.items.push_back(v);
        return;
      }
      case 'e': {  // APPENDS
        std::vector<ValuePtr> items = pop_to_mark(at);
        Value& list = *top(at);
        if (list.kind != Value::Kind::List) fail(at, std::string("APPENDS to a ") + list.kind_name());
        for (const ValuePtr& item : items) adopt(list, *item, at);
        list.items.insert(list.items.end(), items.begin(), items.end());
        return;
      }
      case 'K': push(make_int(take(1)[0])); return;                                      // BININT1
      case 'M': push(make_int(read_u16(take(2)))); return;                               // BININT2
      case 'J': push(make_int(static_cast<int32_t>(read_u32(take(4))))); return;         // BININT
      case 0x8a: case 0x8b: {  // LONG1, LONG4: little-endian two's complement
        const uint64_t n = op == 0x8a ? take(1)[0] : read_u32(take(4));
        if (n > 64) fail(at, "integer of " + std::to_string(n) + " bytes");
        const uint8_t* p = take(n);
        auto v = make(Value::Kind::Int);
        uint64_t u = 0;
        for (uint64_t i = 0; i < std::min<uint64_t>(n, 8); ++i) u |= uint64_t(p[i]) << (8 * i);
        if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t(0) << (8 * n);  // sign-extend
        v->integer = static_cast<int64_t>(u);
        if (n > 8) v->text.assign(reinterpret_cast<const char*>(p), n);  // keep the raw bytes (legacy magic)
        push(v);
        return;
      }
      case 'I': case 'L': {  // INT, LONG (text)
        const std::string line = take_line();
        if (op == 'I' && (line == "01" || line == "00")) {  // Python 2 booleans
          auto b = make(Value::Kind::Bool);
          b->integer = line == "01";
          push(b);
          return;
        }
        bool ok;
        const int64_t i = parse_int(line, &ok);
        if (!ok) fail(at, "bad integer text '" + line + "'");
        push(make_int(i));
        return;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const uint8_t* p = take(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];
        auto v = make(Value::Kind::Float);
        std::memcpy(&v->real, &u, 8);
        push(v);
        return;
      }
      case 'X': push(make_string(take_string(read_u32(take(4))))); return;                     // BINUNICODE
      case 0x8c: push(make_string(take_string(take(1)[0]))); return;                           // SHORT_BINUNICODE
      case 'U': push(make_string(take_string(take(1)[0]))); return;                            // SHORT_BINSTRING
      case 'T': {                                                                              // BINSTRING
        const int32_t n = static_cast<int32_t>(read_u32(take(4)));
        if (n < 0) fail(at, "negative string length");
        push(make_string(take_string(static_cast<uint64_t>(n))));
        return;
      }
      case 'C': push(make_string(take_string(take(1)[0]), Value::Kind::Bytes)); return;        // SHORT_BINBYTES
      case 'B': push(make_string(take_string(read_u32(take(4))), Value::Kind::Bytes)); return;  // BINBYTES
      case 'N': push(make(Value::Kind::None)); return;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        auto b = make(Value::Kind::Bool);
        b->integer = op == 0x88;
        push(b);
        return;
      }
      case 'Q': {  // BINPERSID
        ValuePtr pid = pop(at);
        if (!persistent_load_) fail(at, "persistent id where none is expected");
        push(persistent_load_(pid));
        return;
      }
      case 'R': {  // REDUCE
        ValuePtr args = pop(at), callable = pop(at);
        push(reduce(callable, args, at));
        return;
      }
      case 'b': {  // BUILD
        ValuePtr state = pop(at);
        Value& target = *top(at);
        if (target.kind == Value::Kind::Dict) return;  // a state dict's _metadata attribute: not needed
        if (target.kind == Value::Kind::Object && state->kind == Value::Kind::Dict) {  // its __dict__
          if (!target.entries.empty()) fail(at, "an object built twice");
          for (const auto& [key, value] : state->entries) {
            adopt(target, *key, at);
            adopt(target, *value, at);
          }
          target.entries = state->entries;
          return;
        }
        if (target.kind == Value::Kind::Tensor && target.tensor->placeholder && state->kind == Value::Kind::Tuple &&
            state->items.size() == 4) {
          ValuePtr built = make_tensor(state->items[0], state->items[1], state->items[2], state->items[3], at);
          *target.tensor = *built->tensor;  // in place: memo entries alias it
          return;
        }
        fail(at, std::string("BUILD on a ") + target.kind_name());
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args), only as data (objects_as_data) and only with no args
        if (!objects_as_data_) fail(at, "opcode 0x81 is not allowed in a weight file");
        ValuePtr args = pop(at), cls = pop(at);
        if (cls->kind != Value::Kind::Global || args->kind != Value::Kind::Tuple || !args->items.empty())
          fail(at, "an object made from anything but a class with no arguments");
        auto object = make(Value::Kind::Object);
        object->text = cls->text;
        object->name = cls->name;
        push(object);
        return;
      }
      default:
        fail(at, detail::concat("opcode 0x", std::hex, int(op), " is not allowed in a weight file"));
    }
  }

  const uint8_t* bytes_;
  uint64_t size_;
  uint64_t pos_;
  const std::string& where_;
  const PersistentLoad& persistent_load_;
  bool objects_as_data_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
  uint64_t budget_, spent_ = 0;  // bytes (see charge)
};

}  // namespace

PickleResult unpickle(const uint8_t* bytes, uint64_t size, uint64_t begin, const std::string& where,
                      const PersistentLoad& persistent_load, bool objects_as_data) {
  return Unpickler(bytes, size, begin, where, persistent_load, objects_as_data).run();
}

}  // namespace gcam::weights
