// fuzz_json.cpp — the JSON reader on any bytes, whole (parse_json) and field by field (parse_json_fields).
#include <cstddef>
#include <cstdint>

#include "gcam/error.h"
#include "weights/json.h"

using namespace gcam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  try {
    weights::parse_json(text, size, "fuzz");
  } catch (const InputError&) {
  }
  try {
    size_t fields = 0;
    weights::parse_json_fields(text, size, "fuzz", [&](std::string, weights::Json) { ++fields; });
  } catch (const InputError&) {
  }
  return 0;
}
