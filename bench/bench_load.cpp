// bench_load — time and peak memory to load a checkpoint into a model.
//
//   build/bin/bench_load ARCH FILE [repeats]
// Prints one JSON line: the median load time (open + strict match + copy into the model, the model
// itself allocated before the clock starts), the file size and this process's peak RSS. Run it in a
// fresh process per measurement (bench/compare_load.py does): peak RSS is per process.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gcam/error.h"
#include "peak_rss.h"
#include "gcam/models.h"
#include "gcam/weights.h"

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_load ARCH FILE [repeats]\n");
    return 2;
  }
  const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 1;
  auto model = gcam::models::make_model(argv[1]);
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    auto checkpoint = gcam::weights::Checkpoint::open(argv[2]);
    gcam::models::load_weights(*model, *checkpoint);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  struct stat st {};
  stat(argv[2], &st);
  std::printf("{\"seconds\": %.6f, \"file_bytes\": %lld, \"peak_rss_bytes\": %lld}\n", seconds[seconds.size() / 2],
              static_cast<long long>(st.st_size), gcam::bench::peak_rss_bytes());
  return 0;
} catch (const gcam::InputError& e) {
  std::fprintf(stderr, "bench_load: %s\n", e.what());
  return 2;
}
