// fuzz_safetensors.cpp — the safetensors reader on any file, straight (no format detection first), and
// the tensors' bounds.
#include <cstddef>
#include <cstdint>

#include "gcam/error.h"
#include "memory_file.h"
#include "weights/readers.h"

using namespace gcam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::MemoryFile file(data, size);
  try {
    const weights::FileMap map(file.path());
    std::vector<std::pair<std::string, std::string>> metadata;
    weights::read_safetensors(map, &metadata);
  } catch (const InputError&) {
  }
  return 0;
}
