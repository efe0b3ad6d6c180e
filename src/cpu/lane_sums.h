// lane_sums.h — sums of float arrays in double, in a fixed order, at vector speed (internal to src/).
//
// A plain `double s; for (i) s += p[i];` is one chain of dependent additions: the compiler may not
// reorder floating-point sums, so it neither vectorises the loop nor overlaps its additions (one add
// per ~4 cycles). Here the sum is kept in kLanes separate doubles, lane j taking p[j], p[j + 8],
// p[j + 16], …; the lanes are independent, so the compiler turns them into vector registers of
// doubles (two AVX2 registers, or one AVX-512), and they are added together in lane order at the end:
//   Σ p[i] = Σ_j (Σ_t p[j + 8t])
// The order is fixed (it depends only on n), so a sum gives the same bits on every call and thread
// count, and every value is added in double, as the plain loop did.
#pragma once

#include <cstdint>

namespace gcam::cpu {

constexpr int kLanes = 8;

// Adds the kLanes partial sums in lane order.
inline double add_lanes(const double (&lanes)[kLanes]) {
  double s = 0.0;
  for (int j = 0; j < kLanes; ++j) s += lanes[j];
  return s;
}

// Σ_i f(i) over i < n, each f(i) a double, in lanes: f is called with whole groups of kLanes
// consecutive i first, then with the tail (its terms go to lanes 0, 1, …).
template <typename Term>
double lane_sum(int64_t n, Term f) {
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lanes[j] += f(i + j);
  for (int j = 0; i < n; ++i, ++j) lanes[j] += f(i);
  return add_lanes(lanes);
}

}  // namespace gcam::cpu
