// host_memory.h — how gcam's programs ask the C library to keep the memory they free (internal to the
// programs; the library itself sets nothing process-wide).
//
// Every op returns a new tensor, and a pass frees each one once the next ops have read it, so the same
// few sizes are allocated and freed over and over. By default glibc serves blocks above a threshold
// with mmap and gives them back with munmap, and trims the heap's free top back to the system, so a
// block is often fresh pages: the kernel maps and zeroes each 4 KB page on its first write, a page
// fault each. Kept instead, the next tensor of that size reuses pages already mapped:
//   M_MMAP_THRESHOLD  32 MB, glibc's most: blocks up to it come from the heap (larger ones, such as
//                     VGG-16's first activations at batch 8, 103 MB, still use mmap)
//   M_TRIM_THRESHOLD  1 GB: the heap's free top is kept, not returned
// Setting either also turns off glibc's own adjustment of the mmap threshold, which is why both are set:
// with the trim threshold alone every block above 128 KB was mmapped and a ResNet-50 Grad-CAM pass
// took 1.6× as long.
// Measured (bench_explain, gradcam, batch 8, on an Intel Xeon with AVX-512, 2 threads, the same binary
// with these settings made through GLIBC_TUNABLES against none, alternating): ResNet-50 0.318 s against
// 0.362 (medians of 4; peak RSS 378–384 MB against 385–399); VGG-16 1.013 against 1.076 (medians of 3;
// 1027 MB against 1006). gcam-train's step did not move (0.0930 against 0.0931 s), so gcam-train does
// not call it. Then built in (bench_explain calls it as explain does), against the build before, 5
// alternating runs: ResNet-50 0.314 s against 0.348 (1.11×), peak RSS 378–385 MB against 385–399.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace gcam::tools {

inline void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace gcam::tools
