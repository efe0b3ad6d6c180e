// json.h — a small JSON reader for safetensors headers (internal).
//
// Objects keep their key order; numbers keep whether they were integers. Every error names the byte
// where parsing stopped. What a hostile text can cost is bounded: nesting at 64 levels, and memory — the
// parsed values, their slots and their strings are counted as they are made, and may take at most
// 16 MiB + 4 × the text's length. A large object whose fields are used one at a time (a safetensors
// header: one field per tensor) is read field by field, parse_json_fields, so that only one field's
// values are held at once, each within that budget.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gcam::weights {

struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0.0;
  bool is_integer = false;  // a number written without fraction or exponent
  int64_t integer = 0;      // its value, when is_integer (and it fits)
  std::string text;
  std::vector<Json> items;                           // Array
  std::vector<std::pair<std::string, Json>> fields;  // Object, in file order

  const Json* find(const std::string& key) const;  // Object field, or null
};

// Parses text[0, length). Throws InputError "<where>: JSON byte N: …".
Json parse_json(const char* text, uint64_t length, const std::string& where);

// Parses text[0, length), which must be one object, handing each field to `field` as soon as it is parsed
// (in the text's order); the field's values are freed when `field` returns unless it moves them out.
using JsonField = std::function<void(std::string key, Json value)>;
void parse_json_fields(const char* text, uint64_t length, const std::string& where, const JsonField& field);

}  // namespace gcam::weights
