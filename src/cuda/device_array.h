// device_array.h — a typed array in device memory, owned by one object (internal).
//
// Move-only: exactly one owner frees it (back to the caching allocator). The two named copies are the
// only ways in and out. Used for what is not a float tensor: max pooling's argmax indices, labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "../device_memory.h"

namespace gcam::cuda {

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(int64_t count)
      : data_(static_cast<T*>(device_alloc_bytes(count * static_cast<int64_t>(sizeof(T))))), count_(count) {}
  ~DeviceArray() { device_free_bytes(data_); }

  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    if (this != &other) {
      device_free_bytes(data_);
      data_ = std::exchange(other.data_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }

  static DeviceArray copy_from_host(const std::vector<T>& values) {
    DeviceArray a(static_cast<int64_t>(values.size()));
    copy_bytes_host_to_device(a.data_, values.data(), a.bytes());
    return a;
  }
  std::vector<T> copy_to_host() const {
    std::vector<T> values(static_cast<std::size_t>(count_));
    copy_bytes_device_to_host(values.data(), data_, bytes());
    return values;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  int64_t size() const { return count_; }

 private:
  int64_t bytes() const { return count_ * static_cast<int64_t>(sizeof(T)); }
  T* data_ = nullptr;
  int64_t count_ = 0;
};

}  // namespace gcam::cuda
