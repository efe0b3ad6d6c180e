// gcam/error.h — the one way gcam reports a failure.
//
// Two kinds of error reach a user:
//   InputError    — bad input or bad usage (a shape that does not fit, a corrupt file): exit code 2.
//   InternalError — a broken invariant inside gcam: exit code 1.
// Both carry one line of text that names the operation and what was wrong. Checks never vanish under
// NDEBUG: GCAM_CHECK is always compiled in.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace gcam {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

class InternalError : public std::runtime_error {
 public:
  explicit InternalError(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
// Builds a message from any streamable pieces: concat("conv2d: ", 3, " channels").
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace gcam

// GCAM_CHECK(cond, pieces...): throws InputError("pieces...") when cond is false.
// Use it for everything a caller can get wrong (shapes, options, file contents).
#define GCAM_CHECK(cond, ...)                                          \
  do {                                                                 \
    if (!(cond)) throw ::gcam::InputError(::gcam::detail::concat(__VA_ARGS__)); \
  } while (0)

// GCAM_ASSERT(cond): an internal invariant; throws InternalError with the statement and file:line.
#define GCAM_ASSERT(cond)                                                                    \
  do {                                                                                       \
    if (!(cond))                                                                             \
      throw ::gcam::InternalError(::gcam::detail::concat("internal error: ", #cond, " at ", \
                                                         __FILE__, ":", __LINE__));          \
  } while (0)
