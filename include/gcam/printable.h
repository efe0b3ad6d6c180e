// gcam/printable.h — text from a file or a command line, made safe to print on a terminal.
//
// Tensor names, metadata, class names and file names come from strangers, and a terminal obeys the
// control sequences in what it prints (ESC [ … moves the cursor, rewrites the title, hides text). So
// every control character — C0 (below 0x20), DEL (0x7F) and C1 (U+0080–U+009F) — and every byte that is
// not part of well-formed UTF-8 is shown as \xNN; everything else, non-ASCII letters included, passes.
#pragma once

#include <string>

namespace gcam {

std::string printable(const std::string& text);

}  // namespace gcam
