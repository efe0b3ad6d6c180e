// fuzz_idx.cpp — the IDX reader (plain or gzip) on any pair of files: the input's first byte says where
// the images file ends and the labels file begins.
#include <cstddef>
#include <cstdint>

#include "gcam/data.h"
#include "gcam/error.h"
#include "memory_file.h"

using namespace gcam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split = std::min<size_t>(size - 1, size_t{data[0]} * 16);
  const fuzz::MemoryFile images(data + 1, split), labels(data + 1 + split, size - 1 - split);
  try {
    data::read_idx(images.path(), labels.path());
  } catch (const InputError&) {
  }
  return 0;
}
