// scratch.h — reusable per-thread work buffers for the CPU backend (internal).
//
// Unfolded patch matrices and gathered gradient tiles are needed on every convolution call;
// allocating and page-faulting them each time costs more than the arithmetic on small layers. Each
// thread keeps a few numbered buffers that only grow. Contents are uninitialised; a caller owns its
// slot until its next call with the same slot.
#pragma once

#include <cstdint>

namespace gcam::cpu {

enum class ScratchSlot { Columns = 0, Tile = 1, Rows = 2, Phases = 3 };
constexpr int kScratchSlots = 4;

float* scratch(ScratchSlot slot, int64_t numel);

}  // namespace gcam::cpu
