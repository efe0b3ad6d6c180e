// localize.cpp — the paper's bounding box: threshold at 15% of the map's maximum, keep the largest
// 8-connected component, return its bounding box. An iterative flood fill (an explicit stack), so a
// 4-megapixel map cannot overflow the call stack.
#include <algorithm>
#include <vector>

#include "gcam/cam.h"

namespace gcam::cam {

Box localize(const float* map, int64_t height, int64_t width, float threshold) {
  Box best;
  if (height <= 0 || width <= 0) return best;
  const float peak = *std::max_element(map, map + height * width);
  if (!(peak > 0.0f)) return best;  // an all-zero map has no box
  const float cut = threshold * peak;
  std::vector<int32_t> label(static_cast<size_t>(height * width), 0);
  std::vector<int64_t> stack;
  int64_t best_size = 0;
  int32_t next = 0;
  for (int64_t start = 0; start < height * width; ++start) {
    if (map[start] < cut || label[start]) continue;
    label[start] = ++next;
    stack.assign(1, start);
    Box box{start % width, start / width, start % width, start / width, false};
    int64_t size = 0;
    while (!stack.empty()) {
      const int64_t at = stack.back();
      stack.pop_back();
      ++size;
      const int64_t y = at / width, x = at % width;
      box.x0 = std::min(box.x0, x), box.x1 = std::max(box.x1, x);
      box.y0 = std::min(box.y0, y), box.y1 = std::max(box.y1, y);
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx) {
          const int64_t ny = y + dy, nx = x + dx;
          if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
          const int64_t n = ny * width + nx;
          if (map[n] >= cut && !label[n]) {
            label[n] = next;
            stack.push_back(n);
          }
        }
    }
    if (size > best_size) {
      best_size = size;
      best = box;
    }
  }
  return best;
}

}  // namespace gcam::cam
