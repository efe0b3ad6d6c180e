// json.h — a small JSON reader for safetensors headers (internal).
//
// Objects keep their key order; numbers keep whether they were integers. Depth and sizes are bounded,
// and every error names the byte where parsing stopped.
#pragma once

#include <cstdint>
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

}  // namespace gcam::weights
