// printable.cpp — see gcam/printable.h. UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates,
// nothing past U+10FFFF.
#include "gcam/printable.h"

#include <cstdint>
#include <cstdio>

namespace gcam {

namespace {

// The length of the well-formed UTF-8 sequence at text[i] that encodes a printable code point, or 0.
size_t printable_sequence(const std::string& text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  if (lead >= 0x20 && lead < 0x7F) return 1;
  size_t length = 0;
  uint32_t code = 0, lowest = 0;
  if (lead >= 0xC2 && lead <= 0xDF) length = 2, code = lead & 0x1F, lowest = 0x80;
  else if (lead >= 0xE0 && lead <= 0xEF) length = 3, code = lead & 0x0F, lowest = 0x800;
  else if (lead >= 0xF0 && lead <= 0xF4) length = 4, code = lead & 0x07, lowest = 0x10000;
  else return 0;
  if (text.size() - i < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = code << 6 | (byte(i + k) & 0x3F);
  }
  const bool well_formed = code >= lowest && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
  const bool c1_control = code >= 0x80 && code <= 0x9F;
  return well_formed && !c1_control ? length : 0;
}

}  // namespace

std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (const size_t n = printable_sequence(text, i)) {
      out.append(text, i, n);
      i += n;
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<uint8_t>(text[i]));
      out += escaped;
      ++i;
    }
  }
  return out;
}

}  // namespace gcam
