// derived_layouts.h — layouts an op derives from a tensor's data, kept with the data (internal).
//
// Some fast paths first rearrange an operand, typically the weights: Winograd's convolution multiplies
// by the transformed filters U = G g Gᵀ, not by g (src/cpu/winograd.h). A network's weights stay the same
// from one call to the next, so the rearranged copy is made once and kept on the weights' Storage, and
// made again only after the data was written (Storage::written, set by the non-const Tensor::data()).
// A kept layout lives as long as the storage it came from: its memory is the price of not remaking it.
#pragma once

#include <cstdint>
#include <functional>

#include "gcam/tensor.h"

namespace gcam {

// The layout `kind` of `source` (its view: offset and shape), made by `make` from source's data, or
// the one kept from an earlier call when source's storage has not been written since. Thread-safe.
Tensor derived_layout(const Tensor& source, const char* kind, const std::function<Tensor()>& make);

// How many layouts `make` has built in this process (tests check that a second call reuses one).
int64_t derived_layouts_made();

}  // namespace gcam
