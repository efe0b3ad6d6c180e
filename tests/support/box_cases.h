// box_cases.h — batches of maps whose boxes (gcam/cam.h: localize) are hard to get right, shared by the
// test of the parallel steps on CPU threads and the test of the GPU kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gcam/cam.h"

namespace gcam::test {

struct BoxCase {
  std::string name;
  int64_t height = 0, width = 0;
  float threshold = 0.15f;
  std::vector<float> maps;  // (images, height, width): the images differ
  int64_t images() const { return static_cast<int64_t>(maps.size()) / (height * width); }
};

// Speckle (many components, spirals of diagonal links, equal sizes), smooth blobs, a one-pixel-wide
// snake (every pixel one link further from its root), a checkerboard (joined only diagonally), equal
// components whose first pixels differ only in raster order, all-zero and all-equal maps, and one
// pixel, one row and one column; several images per batch, no two alike.
std::vector<BoxCase> box_cases();

// Both empty, or the same four bounds (the failure message prints both).
::testing::AssertionResult same_box(const cam::Box& got, const cam::Box& want);

}  // namespace gcam::test
