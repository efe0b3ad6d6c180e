// Shape: extents, element count and printing.
#include "gcam/shape.h"

#include "gcam/checked.h"
#include "gcam/error.h"

namespace gcam {

namespace {

// The product of the extents, checked: numel() can then multiply without a test.
void check_numel(const int64_t* extents, int ndim) {
  uint64_t n = 1;
  for (int d = 0; d < ndim; ++d) {
    const std::optional<uint64_t> next = checked::product(n, static_cast<uint64_t>(extents[d]), Shape::kMaxNumel);
    if (!next) {
      std::string shown = "(";
      for (int e = 0; e < ndim; ++e) shown += (e ? ", " : "") + std::to_string(extents[e]);
      throw InputError("shape: " + shown + ") has more than 2^60 elements");
    }
    n = *next;
  }
}

}  // namespace

Shape::Shape(std::initializer_list<int64_t> extents) {
  GCAM_CHECK(extents.size() <= static_cast<size_t>(kMaxDims), "shape: at most ", kMaxDims,
             " dimensions, got ", extents.size());
  for (int64_t e : extents) {
    GCAM_CHECK(e >= 0, "shape: negative extent ", e);
    extents_[ndim_++] = e;
  }
  check_numel(extents_.data(), ndim_);
}

Shape Shape::of(const int64_t* extents, int ndim) {
  GCAM_CHECK(ndim >= 0 && ndim <= kMaxDims, "shape: at most ", kMaxDims, " dimensions, got ", ndim);
  Shape s;
  for (int d = 0; d < ndim; ++d) {
    GCAM_CHECK(extents[d] >= 0, "shape: negative extent ", extents[d]);
    s.extents_[d] = extents[d];
  }
  s.ndim_ = ndim;
  check_numel(s.extents_.data(), ndim);
  return s;
}

int64_t Shape::operator[](int d) const {
  int axis = d < 0 ? d + ndim_ : d;
  GCAM_CHECK(axis >= 0 && axis < ndim_, "shape: dimension ", d, " out of range for ", str());
  return extents_[axis];
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int d = 0; d < ndim_; ++d) n *= extents_[d];
  return n;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int d = 0; d < ndim_; ++d) {
    if (d) s += ", ";
    s += std::to_string(extents_[d]);
  }
  return s + ")";
}

bool Shape::operator==(const Shape& other) const {
  if (ndim_ != other.ndim_) return false;
  for (int d = 0; d < ndim_; ++d)
    if (extents_[d] != other.extents_[d]) return false;
  return true;
}

}  // namespace gcam
