// child.h — runs a piece of a test in a child process, to see what a hostile file costs: its peak memory,
// whether it ended, and how (internal to the tests).
//
// A loader that allocates 4 GiB for a 16-byte file, hangs on a FIFO or dies of a signal would take the
// test process with it; in a child, the test sees the peak resident memory (getrusage of the child), a
// timeout (SIGALRM) or the signal, and the one-line message of an InputError.
#pragma once

#include <functional>
#include <string>

namespace gcam::test {

// Whether a child's peak memory means what it says: under AddressSanitizer (scripts/sanitize.sh) every
// allocation carries red zones and freed memory waits in a quarantine, so the tests check their memory
// bounds only in a normal build, and check everything else in both.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMemoryIsMeasured = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kMemoryIsMeasured = false;
#else
constexpr bool kMemoryIsMeasured = true;
#endif
#else
constexpr bool kMemoryIsMeasured = true;
#endif

struct ChildOutcome {
  enum class End { Returned, InputError, OutOfMemory, OtherException, Signal, Exit } end = End::Returned;
  std::string message;   // InputError's (or another exception's) text; what the child wrote to stderr for Exit/Signal
  int signal = 0;        // End::Signal: which (SIGALRM: it ran out of time)
  int exit_code = 0;     // End::Exit: a code the code under test exited with itself
  double peak_rss_mb = 0;   // the child's peak resident memory, the test binary's own included
  double start_rss_mb = 0;  // the test binary's resident memory when the child began (it inherits it)
  double added_mb() const { return peak_rss_mb - start_rss_mb; }  // what the body cost
};

// Runs `body` in a forked child with `seconds` to finish. Call it before the test starts any threads (each
// GoogleTest case runs in its own process under ctest).
ChildOutcome run_in_child(const std::function<void()>& body, unsigned seconds = 60);

std::string describe(const ChildOutcome& outcome);  // for failure messages

}  // namespace gcam::test
