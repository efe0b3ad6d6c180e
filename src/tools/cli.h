// cli.h — what gcam's command-line programs share: reading numbers from options, and the exit codes.
//
// Every program: 0 on success; 2 on bad usage or bad input, with one line on stderr that names the file
// or option and the problem ("explain: cat.jpg: not an image"); 1 on an internal error.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "gcam/error.h"
#include "gcam/printable.h"

namespace gcam::tools {

// Makes the folder `path` (and its parents) where a program writes its output, or an InputError naming
// it and why not ("out/: cannot create the folder (Permission denied)"). Returns the folders it created,
// outermost first, so that a run that fails can take them away again.
inline std::vector<std::string> make_folder(const std::string& path) {
  std::vector<std::string> created;
  if (path.empty()) return created;
  std::error_code error;
  for (std::filesystem::path p = std::filesystem::absolute(path, error); !p.empty() && !std::filesystem::exists(p, error);
       p = p.parent_path()) {
    created.insert(created.begin(), p.string());
    if (p == p.parent_path()) break;
  }
  std::filesystem::create_directories(path, error);
  if (error || !std::filesystem::is_directory(path, error))
    throw InputError(path + ": cannot create the folder (" + (error ? error.message() : "a file is in its place") + ")");
  return created;
}

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
  if (text.empty() || *end || !(v >= lo && v <= hi)) {
    char range[64];
    std::snprintf(range, sizeof range, "from %g to %g", lo, hi);
    usage_error(program, flag + " expects a number " + range + ", got '" + text + "'");
  }
  return v;
}

// Walks a command line one argument at a time:
//   for (tools::Arguments args("explain", argc, argv); args.next();) {
//     if (args.is("--out")) o.out = args.value();
//     else if (args.is("--batch")) o.batch = args.integer(1, 4096);
//     else args.reject();
//   }
class Arguments {
 public:
  Arguments(std::string program, int argc, char** argv) : program_(std::move(program)), argc_(argc), argv_(argv) {}

  bool next() {
    if (++index_ >= argc_) return false;
    current_ = argv_[index_];
    return true;
  }
  const std::string& current() const { return current_; }
  bool is(const char* flag) const { return current_ == flag; }
  bool is_option() const { return current_.size() > 1 && current_[0] == '-'; }

  // The value after the current option ("--out DIR"), or a usage error saying it is missing.
  std::string value() {
    if (index_ + 1 >= argc_) fail(current_ + " needs a value");
    return argv_[++index_];
  }
  int64_t integer(int64_t lo, int64_t hi) {
    const std::string flag = current_;
    return parse_int(program_, flag, value(), lo, hi);
  }
  float number(float lo, float hi) {
    const std::string flag = current_;
    return parse_float(program_, flag, value(), lo, hi);
  }

  [[noreturn]] void fail(const std::string& message) const { usage_error(program_, message); }
  // The current argument is not one the program knows.
  [[noreturn]] void reject() const {
    fail(is_option() ? "unknown option " + current_ : "unexpected argument '" + current_ + "'");
  }

 private:
  std::string program_;
  int argc_;
  char** argv_;
  int index_ = 0;
  std::string current_;
};

// Runs the program's body and turns what it throws into the exit codes above: InputError and bad_alloc
// (exit 2), anything else (exit 1).
template <typename Body>
int run_main(const char* program, Body body) {
  // Messages name files, tensors and classes that came from strangers: printed as gcam/printable.h says.
  try {
    return body();
  } catch (const InputError& e) {
    std::fprintf(stderr, "%s: %s\n", program, printable(e.what()).c_str());
    return 2;
  } catch (const std::bad_alloc&) {  // every large allocation is sized by an input: a file, an option
    std::fprintf(stderr, "%s: out of memory: the input needs more memory than this machine can give\n", program);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, printable(e.what()).c_str());
    return 1;
  }
}

}  // namespace gcam::tools
