// gcam/checked.h — arithmetic on sizes and offsets that cannot wrap around.
//
// Every size a parser reads from a file, and every element count a Shape or a Storage computes, goes
// through these: a product or sum past `limit` is reported (nullopt), never wrapped. A wrapped size is how
// a 16 KB checkpoint claiming (2^62, 512) elements turned into a 0-byte allocation written past its end.
//
//   if (auto bytes = checked::product(count, item)) use(*bytes); else fail("impossibly large");
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

namespace gcam::checked {

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// a · b, or nothing when it exceeds `limit`.
inline std::optional<uint64_t> product(uint64_t a, uint64_t b, uint64_t limit = kNoLimit) {
  uint64_t p = 0;
  if (__builtin_mul_overflow(a, b, &p) || p > limit) return std::nullopt;
  return p;
}

// a + b, or nothing when it exceeds `limit`.
inline std::optional<uint64_t> sum(uint64_t a, uint64_t b, uint64_t limit = kNoLimit) {
  uint64_t s = 0;
  if (__builtin_add_overflow(a, b, &s) || s > limit) return std::nullopt;
  return s;
}

// Whether [offset, offset + length) lies inside [0, size).
inline bool fits(uint64_t offset, uint64_t length, uint64_t size) { return offset <= size && length <= size - offset; }

}  // namespace gcam::checked
