// peak_rss.h — this process's peak resident set, for the memory columns of the benchmarks.
#pragma once

#include <fstream>
#include <string>

namespace gcam::bench {

// VmHWM from /proc/self/status, in bytes. Not getrusage's ru_maxrss: that survives execve, so a child
// started by a large parent (a Python driver) would report the parent's peak.
inline long long peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long long kb = 0;
  while (status >> key) {
    if (key == "VmHWM:") {
      status >> kb;
      break;
    }
    status.ignore(1 << 12, '\n');
  }
  return kb * 1024;
}

}  // namespace gcam::bench
