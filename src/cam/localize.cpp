// localize.cpp — the paper's bounding box: threshold at 15% of the map's maximum, keep the largest
// 8-connected component, return its bounding box.
//
// The components are found from runs, not pixels. Each row is cut into runs of consecutive pixels
// ≥ cut; a run joins every run of the row above whose columns, widened by one on each side, overlap
// its own (8-connectivity). A union-find over the runs merges them, and each root carries its
// component's pixel count and bounding box. Work: one pass over the pixels plus nearly constant time
// per run (a flood fill visited every pixel's eight neighbours: 1.7 ms for a 224×224 map on the
// development machine, against 0.1 ms now).
//
// Ties: of components of equal size, the one whose first pixel comes first in raster order wins (the
// one a raster-order flood fill would find first). Runs are numbered in raster order and a merged
// component keeps its oldest run as the root, so that is the one with the lowest root. NaN is never
// ≥ cut, so it is never inside.
#include <algorithm>
#include <vector>

#include "gcam/cam.h"

namespace gcam::cam {

namespace {

struct Run {
  int64_t y, x0, x1;  // row and inclusive columns
};

// A component as the union-find sees it: valid at the roots.
struct Component {
  int64_t size;  // pixels
  Box box;
};

class RunForest {
 public:
  int64_t add(const Run& r) {
    parent_.push_back(static_cast<int64_t>(parent_.size()));
    parts_.push_back({r.x1 - r.x0 + 1, Box{r.x0, r.y, r.x1, r.y, false}});
    return parent_.back();
  }
  int64_t root(int64_t i) {
    while (parent_[i] != i) i = parent_[i] = parent_[parent_[i]];  // path halving
    return i;
  }
  void join(int64_t a, int64_t b) {
    a = root(a), b = root(b);
    if (a == b) return;
    if (a > b) std::swap(a, b);  // the older run stays the root
    parent_[b] = a;
    Component &into = parts_[a], &from = parts_[b];
    into.size += from.size;
    into.box.x0 = std::min(into.box.x0, from.box.x0), into.box.x1 = std::max(into.box.x1, from.box.x1);
    into.box.y0 = std::min(into.box.y0, from.box.y0), into.box.y1 = std::max(into.box.y1, from.box.y1);
  }
  // The largest component's box (the lowest root among equals); empty when there is none.
  Box largest() {
    const Component* best = nullptr;
    for (int64_t i = 0; i < static_cast<int64_t>(parent_.size()); ++i)
      if (root(i) == i && (!best || parts_[i].size > best->size)) best = &parts_[i];
    return best ? best->box : Box{};
  }

 private:
  std::vector<int64_t> parent_;
  std::vector<Component> parts_;
};

}  // namespace

Box localize(const float* map, int64_t height, int64_t width, float threshold) {
  if (height <= 0 || width <= 0) return Box{};
  const float peak = *std::max_element(map, map + height * width);
  if (!(peak > 0.0f)) return Box{};  // an all-zero map has no box
  const float cut = threshold * peak;

  std::vector<Run> runs;
  RunForest forest;
  int64_t above_begin = 0, above_end = 0;  // the previous row's runs: runs[above_begin, above_end)
  for (int64_t y = 0; y < height; ++y) {
    const float* row = map + y * width;
    const int64_t row_begin = static_cast<int64_t>(runs.size());
    int64_t above = above_begin;  // the first run above that may still touch this row's next run
    for (int64_t x = 0; x < width; ++x) {
      if (!(row[x] >= cut)) continue;
      const int64_t x0 = x;
      while (x + 1 < width && row[x + 1] >= cut) ++x;
      const Run run{y, x0, x};
      runs.push_back(run);
      const int64_t id = forest.add(run);
      // Runs above that end left of x0 − 1 touch neither this run nor any later one in the row.
      while (above < above_end && runs[above].x1 < x0 - 1) ++above;
      for (int64_t j = above; j < above_end && runs[j].x0 <= x + 1; ++j) forest.join(id, j);
    }
    above_begin = row_begin, above_end = static_cast<int64_t>(runs.size());
  }
  return forest.largest();
}

}  // namespace gcam::cam
