// fuzz_checkpoint.cpp — Checkpoint::open on any file (the format recognised by content: PyTorch zip,
// legacy, safetensors; the seeds hold each), then every tensor read as float32, as a model load does.
#include <cstddef>
#include <cstdint>

#include "gcam/error.h"
#include "gcam/model_card.h"
#include "gcam/weights.h"
#include "memory_file.h"

using namespace gcam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::MemoryFile file(data, size);
  try {
    const auto checkpoint = weights::Checkpoint::open(file.path());
    read_model_card(*checkpoint);
    for (const weights::StoredTensor& t : checkpoint->tensors())
      if (t.numel() <= (int64_t{1} << 20)) checkpoint->read_float(t, Shape({t.numel()}));
  } catch (const InputError&) {
  }
  return 0;
}
