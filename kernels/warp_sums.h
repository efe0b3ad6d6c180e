// warp_sums.h — the sums of U values over a warp's 32 lanes, all U at once (internal to kernels/).
//
// Each lane holds v[0 … U−1] (U = 2^m ≤ 32); the sum of v[u] over the lanes is wanted for every u.
// U separate butterflies would take 5·U shuffles in U dependent chains of 5. Instead, the first m steps
// halve what each lane keeps: at step i (partner lane l ^ 2^(4−i)), a lane whose bit 4−i is 0 keeps the
// lower half of its values and sends the upper half, its partner the other way round, and each adds
// what it receives to what it keeps. After m steps lane l holds one value, the partial sum of value
// u = l / (32/U) over the lanes that agree with l on bits 4 … 5−m; a plain butterfly over the remaining
// 5 − m bits completes it. U − 1 + 5 − m shuffles in all (9 for U = 8, against 40), in one chain of 5.
//
// The order of every addition is fixed, so a run gives the same bits each time; the lanes that end
// with the same u hold the same bits (each butterfly step adds the same two numbers on both lanes).
#pragma once

namespace gcam::cuda {

// The lane holding value u's total afterwards (one of 32/U that do): lane u·32/U.
template <int U>
__device__ constexpr int lane_of_sum(int u) {
  return u * (32 / U);
}

template <int U>
__device__ constexpr int halving_steps() {  // m = log2 U
  return U == 1 ? 0 : 1 + halving_steps<(U > 1 ? U / 2 : 1)>();
}

// Returns Σ_lanes v[u] for u = lane / (32/U); v is used as scratch.
template <int U>
__device__ float warp_sums(float (&v)[U]) {
  static_assert(U >= 1 && U <= 32 && (U & (U - 1)) == 0, "U: a power of two up to 32");
  constexpr int m = halving_steps<U>();
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int step = 0; step < m; ++step) {
    const int half = U >> (step + 1), offset = 16 >> step;
    const bool upper = (lane & offset) != 0;
#pragma unroll
    for (int i = 0; i < half; ++i) {
      const float send = upper ? v[i] : v[i + half];
      const float keep = upper ? v[i + half] : v[i];
      v[i] = keep + __shfl_xor_sync(0xffffffffu, send, offset);
    }
  }
  float s = v[0];
#pragma unroll
  for (int offset = 16 >> m; offset > 0; offset /= 2) s += __shfl_xor_sync(0xffffffffu, s, offset);
  return s;
}

}  // namespace gcam::cuda
