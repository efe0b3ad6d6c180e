// derived_layouts.cpp — the per-storage cache of derived layouts (see derived_layouts.h).
#include "derived_layouts.h"

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace gcam {

// Everything derived from one storage, each entry named by its kind and the view it was made from.
struct DerivedLayouts {
  struct Entry {
    std::string kind;
    int64_t offset;
    Shape shape;
    Tensor layout;
  };
  std::vector<Entry> entries;
};

namespace {

std::mutex& cache_mutex() {  // one lock for every storage: a lookup is once per op call, not per element
  static std::mutex m;
  return m;
}

std::atomic<int64_t> made{0};

}  // namespace

Tensor derived_layout(const Tensor& source, const char* kind, const std::function<Tensor()>& make) {
  Storage& storage = *source.impl()->storage;
  const int64_t offset = source.impl()->offset;
  std::lock_guard<std::mutex> lock(cache_mutex());
  if (!storage.derived) storage.derived = std::make_shared<DerivedLayouts>();
  std::vector<DerivedLayouts::Entry>& entries = storage.derived->entries;
  // Written since the last look: whatever was derived before may describe old data.
  if (storage.written.exchange(false, std::memory_order_acq_rel)) entries.clear();
  for (const DerivedLayouts::Entry& e : entries)
    if (e.kind == kind && e.offset == offset && e.shape == source.shape()) return e.layout;
  Tensor layout = make();
  made.fetch_add(1, std::memory_order_relaxed);
  entries.push_back(DerivedLayouts::Entry{kind, offset, source.shape(), layout});
  return layout;
}

int64_t derived_layouts_made() { return made.load(std::memory_order_relaxed); }

}  // namespace gcam
