// passive_wait.h — run the program with OpenMP's passive wait policy unless the user chose one.
//
// Measured on the 2-core development machine (a training step of an early fashion_resnet with a 3×3/2
// stem and a 4×4 layer4, batch 64, median of 12): 92 img/s with OMP_WAIT_POLICY=active, 137–179 unset, 266–355 passive. A training step alternates
// short parallel loops with serial work (the tape, the optimizer, small ops); threads that spin between
// loops take the core from the thread that has work. libgomp reads the variable once, when it is
// loaded, so the only way to change it is to start again with it set.
#pragma once

#include <unistd.h>

#include <cstdlib>

namespace gcam::tools {

inline void prefer_passive_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then run on as we are
}

}  // namespace gcam::tools
