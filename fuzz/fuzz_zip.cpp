// fuzz_zip.cpp — the ZIP central directory reader on any file.
#include <cstddef>
#include <cstdint>

#include "gcam/error.h"
#include "memory_file.h"
#include "weights/zip.h"

using namespace gcam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::MemoryFile file(data, size);
  try {
    const weights::FileMap map(file.path());
    weights::read_zip_directory(map);
  } catch (const InputError&) {
  }
  return 0;
}
