// cli.h — what gcam's command-line programs share: reading numbers from options, and the exit codes.
//
// Every program: 0 on success; 2 on bad usage or bad input, with one line on stderr that names the file
// or option and the problem ("explain: cat.jpg: not an image"); 1 on an internal error.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "gcam/error.h"

namespace gcam::tools {

// An InputError "message (see PROGRAM --help)".
[[noreturn]] inline void usage_error(const std::string& program, const std::string& message) {
  throw InputError(message + " (see " + program + " --help)");
}

// The whole number `text` given to `flag`, within [lo, hi], or a usage error saying what was expected.
inline int64_t parse_int(const std::string& program, const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || v < lo || v > hi)
    usage_error(program, flag + " expects a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + text + "'");
  return v;
}

// The number `text` given to `flag`, within [lo, hi].
inline float parse_float(const std::string& program, const std::string& flag, const std::string& text, float lo, float hi) {
  char* end = nullptr;
  const float v = std::strtof(text.c_str(), &end);
  if (text.empty() || *end || !(v >= lo && v <= hi))
    usage_error(program, flag + " expects a number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + text + "'");
  return v;
}

// Runs the program's body and turns what it throws into the exit codes above.
template <typename Body>
int run_main(const char* program, Body body) {
  try {
    return body();
  } catch (const InputError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace gcam::tools
