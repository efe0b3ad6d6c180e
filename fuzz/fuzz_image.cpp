// fuzz_image.cpp — one image decoder on any bytes: GCAM_FUZZ_DECODER picks it (png, jpeg, gif), so that
// each decoder is its own fuzz target with its own corpus. A 4-megapixel budget keeps each run quick;
// the size checks it exercises are the same at any budget.
#include <cstddef>
#include <cstdint>

#include "image/gif.h"
#include "image/gif_length.h"
#include "image/jpeg.h"
#include "image/png_read.h"

using namespace gcam::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int64_t kBudget = int64_t{1} << 22;
#if GCAM_FUZZ_DECODER == 1
  decode_png(data, size, kBudget);
#elif GCAM_FUZZ_DECODER == 2
  decode_jpeg(data, size, kBudget);
#else
  if (gif_length(data, size) <= size) decode_gif(data, size, kBudget);
#endif
  return 0;
}
