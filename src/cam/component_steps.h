// component_steps.h — the paper's box (gcam/cam.h: localize) as steps over pixels that may run in any
// order and all at once (internal). The GPU launches each step over every pixel of a batch of maps
// (kernels/localize.cu); tests run the very same steps on CPU threads against cam::localize, the
// sequential reference (tests/test_component_steps.cpp). Compiled by nvcc for both sides and by the
// host compiler alone.
//
// A batch of N maps, each H×W (P = H·W pixels, pixel i = y·W + x of image n is element g = n·P + i):
//
//   0. reset_image    per image: its peak (found by the caller: a block's max on the GPU), an empty box,
//                     no best component yet
//   1. label_pixel    label[g] = i where map ≥ threshold·peak (and peak > 0), else −1 (background)
//   2. join_pixel     each foreground pixel unites its tree with those of its foreground neighbours to the
//                     west, north-west, north and north-east (with the pixels that unite with it from the
//                     east and south, all eight: 8-connectivity), skipping the unions already implied
//   3. count_pixel    label[g] = the root of its tree; size[n·P + root] += 1
//   4. pick_pixel     each root offers (size, −root) to its image's best: the largest component, of equal
//                     sizes the lowest root
//   5. bound_pixel    each pixel of the best component widens its image's box
//
// Between steps every pixel must have finished the step before (on the GPU: one launch per step).
//
// The union-find, lock-free (Playne & Hawick, 2018): label[i] ≤ i always, so following labels from i
// reaches a root r (label[r] = r) that is the smallest index of its tree. To unite a and b, find both
// roots; point the larger at the smaller by an atomic minimum; if that label was no longer a root
// (another thread linked it meanwhile), the minimum kept the smaller of the two targets and the union
// goes on from the one the label pointed at. When step 2 has finished, each component is one tree whose
// root is its first pixel in raster order — the pixel cam::localize's tie rule names.
#pragma once

#include <cstdint>

#include "../host_device.h"

namespace gcam::cam::components {

// What the steps read and write (all arrays owned by the caller).
struct Batch {
  const float* maps;         // (N, H, W)
  int32_t* labels;           // (N, H, W): −1, or an index i of the same image
  int32_t* sizes;            // (N, H, W): the pixel count of the component rooted at i (roots only), zeroed by step 1
  const float* peaks;        // (N): each map's maximum
  unsigned long long* best;  // (N): (size << 32) | (2³² − 1 − root) of the best component so far; 0: none
  int32_t* boxes;            // (N, 4): x0, y0, x1, y1 of the best component; x1 = −1 when there is none
  int64_t height, width;
  float threshold;           // the fraction of the peak (the paper's 0.15)
};

// Memory access shared by concurrent steps: CUDA's atomics on the GPU, GCC's builtins on the host
// (relaxed: the steps need each location's own order only; the barrier between steps orders the rest).
GCAM_HOST_DEVICE inline int32_t load(const int32_t* p) {
#ifdef __CUDA_ARCH__
  return *static_cast<const volatile int32_t*>(p);  // never a cached copy: other threads relink
#else
  return __atomic_load_n(p, __ATOMIC_RELAXED);
#endif
}
GCAM_HOST_DEVICE inline void store(int32_t* p, int32_t v) {
#ifdef __CUDA_ARCH__
  *static_cast<volatile int32_t*>(p) = v;
#else
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
#endif
}
#ifndef __CUDA_ARCH__
// On the host: *p becomes v while v is better than what it holds (a compare-and-swap loop); returns the
// value before.
template <typename T, typename Better>
inline T replace_while_better(T* p, T v, Better better) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (better(v, old) && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
#endif

// Each returns the value before.
GCAM_HOST_DEVICE inline int32_t fetch_min(int32_t* p, int32_t v) {
#ifdef __CUDA_ARCH__
  return atomicMin(p, v);
#else
  return replace_while_better(p, v, [](int32_t a, int32_t b) { return a < b; });
#endif
}
GCAM_HOST_DEVICE inline int32_t fetch_max(int32_t* p, int32_t v) {
#ifdef __CUDA_ARCH__
  return atomicMax(p, v);
#else
  return replace_while_better(p, v, [](int32_t a, int32_t b) { return a > b; });
#endif
}
GCAM_HOST_DEVICE inline void add_one(int32_t* p) {
#ifdef __CUDA_ARCH__
  atomicAdd(p, 1);
#else
  __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
#endif
}
GCAM_HOST_DEVICE inline void offer(unsigned long long* p, unsigned long long v) {
#ifdef __CUDA_ARCH__
  atomicMax(p, v);
#else
  replace_while_better(p, v, [](unsigned long long a, unsigned long long b) { return a > b; });
#endif
}

// The root of i's tree (labels of one image).
GCAM_HOST_DEVICE inline int32_t root_of(const int32_t* labels, int32_t i) {
  for (int32_t next = load(labels + i); next != i; next = load(labels + i)) i = next;
  return i;
}

// Makes a and b one tree (labels of one image).
GCAM_HOST_DEVICE inline void unite(int32_t* labels, int32_t a, int32_t b) {
  for (;;) {
    a = root_of(labels, a);
    b = root_of(labels, b);
    if (a == b) return;
    if (a > b) {  // b is pointed at a: the smaller index stays the root
      const int32_t t = a;
      a = b, b = t;
    }
    const int32_t was = fetch_min(labels + b, a);
    if (was == b) return;  // b was a root, now under a
    b = was;               // b had been linked meanwhile: unite a with where it pointed
  }
}

// The best component's key for a root of `size` pixels: larger sizes first, then lower roots.
GCAM_HOST_DEVICE inline unsigned long long best_key(int32_t size, int32_t root) {
  return (static_cast<unsigned long long>(size) << 32) | (0xffffffffull - static_cast<unsigned long long>(root));
}
GCAM_HOST_DEVICE inline int32_t best_root(unsigned long long key) {
  return static_cast<int32_t>(0xffffffffull - (key & 0xffffffffull));
}

// 0. Image n, once its peak is known.
GCAM_HOST_DEVICE inline void reset_image(const Batch& b, int64_t n) {
  b.best[n] = 0;
  int32_t* box = b.boxes + 4 * n;
  box[0] = static_cast<int32_t>(b.width), box[1] = static_cast<int32_t>(b.height), box[2] = -1, box[3] = -1;
}

// 1.
GCAM_HOST_DEVICE inline void label_pixel(const Batch& b, int64_t g) {
  const int64_t plane = b.height * b.width, n = g / plane;
  const float peak = b.peaks[n];
  const bool inside = peak > 0.0f && b.maps[g] >= b.threshold * peak;  // NaN is never inside
  b.labels[g] = inside ? static_cast<int32_t>(g - n * plane) : -1;
  b.sizes[g] = 0;
}

// 2. At most two unions per pixel, not four: the other edges are already implied (row by row: every
//    edge among the rows above is, once their pixels have joined).
//    N foreground: N alone. NW and NE are N's row neighbours; W's own join reaches N (N is its NE, or
//    its N is NW, which touches N).
//    Else NE, and W if foreground, else NW (with W foreground, NW is W's N, which W joins).
GCAM_HOST_DEVICE inline void join_pixel(const Batch& b, int64_t g) {
  // Foreground labels change while this step runs, but never to −1, and background labels never change.
  if (load(b.labels + g) < 0) return;
  const int64_t plane = b.height * b.width, n = g / plane, i = g - n * plane;
  const int64_t y = i / b.width, x = i % b.width;
  int32_t* labels = b.labels + n * plane;
  const int32_t self = static_cast<int32_t>(i);
  const bool west = x > 0 && load(labels + self - 1) >= 0;
  if (y > 0) {
    const int32_t up = static_cast<int32_t>(i - b.width);
    if (load(labels + up) >= 0) {
      unite(labels, self, up);
      return;
    }
    if (x + 1 < b.width && load(labels + up + 1) >= 0) unite(labels, self, up + 1);
    if (!west && x > 0 && load(labels + up - 1) >= 0) unite(labels, self, up - 1);
  }
  if (west) unite(labels, self, self - 1);
}

// 3. (Writing the root into label[g] leaves every path valid: it only shortens g's.)
GCAM_HOST_DEVICE inline void count_pixel(const Batch& b, int64_t g) {
  if (b.labels[g] < 0) return;
  const int64_t plane = b.height * b.width, n = g / plane;
  int32_t* labels = b.labels + n * plane;
  const int32_t root = root_of(labels, static_cast<int32_t>(g - n * plane));
  store(b.labels + g, root);
  add_one(b.sizes + n * plane + root);
}

// 4.
GCAM_HOST_DEVICE inline void pick_pixel(const Batch& b, int64_t g) {
  const int64_t plane = b.height * b.width, n = g / plane;
  const int32_t i = static_cast<int32_t>(g - n * plane);
  if (b.labels[g] != i) return;  // background, or not a root
  offer(b.best + n, best_key(b.sizes[g], i));
}

// 5.
GCAM_HOST_DEVICE inline void bound_pixel(const Batch& b, int64_t g) {
  const int64_t plane = b.height * b.width, n = g / plane;
  const unsigned long long key = b.best[n];
  if (key == 0 || b.labels[g] != best_root(key)) return;
  const int64_t i = g - n * plane;
  const int32_t y = static_cast<int32_t>(i / b.width), x = static_cast<int32_t>(i % b.width);
  int32_t* box = b.boxes + 4 * n;
  fetch_min(box + 0, x), fetch_min(box + 1, y), fetch_max(box + 2, x), fetch_max(box + 3, y);
}

}  // namespace gcam::cam::components
