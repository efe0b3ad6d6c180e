// gcam/shape.h — the shape of a tensor: up to 4 extents, NCHW order for images.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace gcam {

class Shape {
 public:
  static constexpr int kMaxDims = 4;
  // The most elements a shape may describe: 2^60 floats (4 EiB) is past any memory, and keeps the byte
  // count of any shape's storage, 4 · numel, far from wrapping.
  static constexpr int64_t kMaxNumel = int64_t{1} << 60;

  Shape() = default;
  // Throws InputError for more than 4 dimensions, a negative extent, or more than kMaxNumel elements.
  Shape(std::initializer_list<int64_t> extents);
  static Shape of(const int64_t* extents, int ndim);

  int ndim() const { return ndim_; }
  int64_t operator[](int d) const;  // d may be negative: -1 is the last dimension
  int64_t numel() const;            // product of extents; 1 for a 0-d shape
  std::string str() const;          // "(8, 64, 56, 56)"

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

 private:
  std::array<int64_t, kMaxDims> extents_{};
  int ndim_ = 0;
};

}  // namespace gcam
