// mutations.cpp — see mutations.h.
#include "support/mutations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gcam/error.h"

namespace gcam::test {

namespace {

// The mutant being read, for the crash handler (a fixed buffer: a signal handler may not allocate).
char current_mutant[512] = "";

void name_the_mutant_and_die(int signal) {
  const char* prefix = "\ncrashed on the mutant: ";
  (void)!write(2, prefix, std::strlen(prefix));
  (void)!write(2, current_mutant, std::strlen(current_mutant));
  (void)!write(2, "\n", 1);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

// The crash handler for the duration of a sweep.
class CrashNamer {
 public:
  CrashNamer() {
    for (size_t i = 0; i < kCount; ++i) previous_[i] = std::signal(kSignals[i], name_the_mutant_and_die);
  }
  ~CrashNamer() {
    for (size_t i = 0; i < kCount; ++i) std::signal(kSignals[i], previous_[i]);
    current_mutant[0] = '\0';
  }

 private:
  static constexpr size_t kCount = 5;
  static constexpr int kSignals[kCount] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  void (*previous_[kCount])(int);
};

void write_bytes(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// Byte k of the file at path set to `to`, in place (a checkpoint is a megabyte: rewriting it for each
// of thousands of changed bytes would be most of the test's time).
void patch_byte(const std::string& path, size_t k, uint8_t to) {
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekp(static_cast<std::streamoff>(k));
  file.put(static_cast<char>(to));
  ASSERT_TRUE(file.good()) << "cannot write " << path;
}

}  // namespace

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

MutantCounts expect_read_or_refused(const std::string& name, const std::vector<uint8_t>& original, MutationPlan plan,
                                    const std::function<void(const std::string& path)>& read) {
  const std::filesystem::path folder =
      std::filesystem::temp_directory_path() / ("gcam-mutants-" + std::to_string(getpid()));
  std::filesystem::create_directories(folder);
  const std::string path = (folder / name).string();
  MutantCounts counts;
  CrashNamer crash_namer;
  // The file at path is the mutant described by `what`.
  auto attempt = [&](const std::string& what, bool cut) {
    std::snprintf(current_mutant, sizeof current_mutant, "%s, %s", name.c_str(), what.c_str());
    try {
      read(path);
      ++counts.read;
      if (cut && ++counts.failed <= 10) ADD_FAILURE() << current_mutant << ": read, though it was cut short";
    } catch (const InputError& e) {
      ++counts.refused;
      const std::string message = e.what();
      if (message.find(path) == std::string::npos || message.find('\n') != std::string::npos) {
        if (++counts.failed <= 10) ADD_FAILURE() << current_mutant << ": refused without one line naming the file: " << message;
      }
    } catch (const std::exception& e) {
      if (++counts.failed <= 10) ADD_FAILURE() << current_mutant << ": not an InputError: " << e.what();
    }
  };
  const size_t n = original.size();
  auto next = [&](size_t k) { return k < plan.every_byte_below ? k + 1 : k + std::max<size_t>(plan.stride_beyond, 1); };
  write_bytes(path, original.data(), n);
  for (size_t k = 0; k < n; k = next(k)) {
    const uint8_t was = original[k];
    for (uint8_t to : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t(was ^ 0x01), uint8_t(was ^ 0x80)}) {
      if (to == was) continue;
      patch_byte(path, k, to);
      char what[64];
      std::snprintf(what, sizeof what, "byte %zu 0x%02x -> 0x%02x", k, was, to);
      attempt(what, false);
    }
    patch_byte(path, k, was);
  }
  for (size_t k = 0; k < n; k = next(k)) {
    write_bytes(path, original.data(), k);
    attempt("cut to " + std::to_string(k) + " bytes", true);
  }
  std::filesystem::remove_all(folder);
  std::printf("%s: %lld mutants read, %lld refused, %lld failed\n", name.c_str(), static_cast<long long>(counts.read),
              static_cast<long long>(counts.refused), static_cast<long long>(counts.failed));
  return counts;
}

}  // namespace gcam::test
