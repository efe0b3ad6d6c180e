// child.cpp — see child.h.
#include "support/child.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

#include "gcam/error.h"

namespace gcam::test {

namespace {

// The child's report: one byte for how it ended, then the message.
void report(int fd, ChildOutcome::End end, const char* message) {
  const char kind = static_cast<char>(end);
  (void)!write(fd, &kind, 1);
  (void)!write(fd, message, std::strlen(message));
}

}  // namespace

namespace {

// This process's resident memory now, in MB (/proc/self/statm's second field, in pages).
double resident_mb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace

ChildOutcome run_in_child(const std::function<void()>& body, unsigned seconds) {
  const double start_mb = resident_mb();
  int to_parent[2], errors[2];
  if (pipe(to_parent) != 0 || pipe(errors) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(to_parent[0]);
    close(errors[0]);
    dup2(errors[1], 2);
    alarm(seconds);
    try {
      body();
      report(to_parent[1], ChildOutcome::End::Returned, "");
    } catch (const InputError& e) {
      report(to_parent[1], ChildOutcome::End::InputError, e.what());
    } catch (const std::bad_alloc&) {
      report(to_parent[1], ChildOutcome::End::OutOfMemory, "bad_alloc");
    } catch (const std::exception& e) {
      report(to_parent[1], ChildOutcome::End::OtherException, e.what());
    }
    _exit(0);
  }
  close(to_parent[1]);
  close(errors[1]);
  std::string said, stderr_text;
  char buffer[4096];
  for (ssize_t n; (n = read(to_parent[0], buffer, sizeof buffer)) > 0;) said.append(buffer, static_cast<size_t>(n));
  for (ssize_t n; (n = read(errors[0], buffer, sizeof buffer)) > 0;) stderr_text.append(buffer, static_cast<size_t>(n));
  close(to_parent[0]);
  close(errors[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  ChildOutcome outcome;
  outcome.start_rss_mb = start_mb;
  outcome.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // kB on Linux
  if (WIFSIGNALED(status)) {
    outcome.end = ChildOutcome::End::Signal;
    outcome.signal = WTERMSIG(status);
    outcome.message = stderr_text;
  } else if (said.empty()) {  // it exited before reporting: the code under test called exit
    outcome.end = ChildOutcome::End::Exit;
    outcome.exit_code = WEXITSTATUS(status);
    outcome.message = stderr_text;
  } else {
    outcome.end = static_cast<ChildOutcome::End>(said[0]);
    outcome.message = said.substr(1);
  }
  return outcome;
}

std::string describe(const ChildOutcome& o) {
  static const char* kEnds[] = {"returned", "InputError", "out of memory", "another exception", "signal", "exit"};
  std::string s = std::string(kEnds[static_cast<int>(o.end)]);
  if (o.end == ChildOutcome::End::Signal) s += " " + std::to_string(o.signal) + " (" + strsignal(o.signal) + ")";
  if (o.end == ChildOutcome::End::Exit) s += " " + std::to_string(o.exit_code);
  char peak[96];
  std::snprintf(peak, sizeof peak, ", peak %.0f MB (%.0f MB more than at the start)", o.peak_rss_mb, o.added_mb());
  return s + peak + (o.message.empty() ? "" : ": " + o.message);
}

}  // namespace gcam::test
