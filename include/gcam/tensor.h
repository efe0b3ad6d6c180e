// gcam/tensor.h — a float32 tensor of up to 4 dimensions (NCHW for images) on one device.
//
// Storage is shared and reference-counted: copying a Tensor copies a handle, not the data, and the copy
// is the same tensor (same identity for autodiff). `reshape` is a view on the same storage with a new
// identity; every other operation makes a new tensor. Data is always contiguous in C order.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "gcam/device.h"
#include "gcam/shape.h"

namespace gcam {

class TapeState;      // gcam/autograd.h
struct DerivedLayouts;  // src/derived_layouts.h

// A block of floats on one device. Owned through shared_ptr by every tensor that views it.
struct Storage {
  Device device = Device::CPU;
  float* data = nullptr;  // host pointer (CPU) or device pointer (CUDA)
  int64_t numel = 0;

  // Layouts that ops derive from this data and keep beside it (Winograd's transformed filters), and
  // whether the data may have changed since they were made: every call of the non-const
  // Tensor::data() on a view of this storage sets `written`, which makes all of them stale.
  std::atomic<bool> written{false};
  std::shared_ptr<DerivedLayouts> derived;

  Storage(Device device, int64_t numel);  // uninitialised memory
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

class Tensor;

// What one tensor is: a window onto a storage, plus what autodiff needs to know about it.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements, into storage
  Shape shape;
  uint64_t id = 0;     // unique per TensorImpl: how the tape names this tensor

  // Autodiff. A tensor whose `tape` is alive records every op applied to it onto that tape.
  std::weak_ptr<TapeState> tape;
  bool requires_grad = false;      // a leaf (parameter) that wants its gradient filled by Tape::backward
  std::shared_ptr<TensorImpl> grad;  // that gradient, same shape; allocated on first use
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no storage); `defined()` is false

  // Factories. Each makes a new contiguous tensor.
  static Tensor empty(const Shape& shape, Device device = Device::CPU);  // uninitialised
  static Tensor zeros(const Shape& shape, Device device = Device::CPU);
  static Tensor full(const Shape& shape, float value);
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values);  // size must match

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  int64_t size(int d) const { return shape()[d]; }
  int64_t numel() const { return shape().numel(); }
  Device device() const;
  uint64_t id() const;

  // Raw element pointer on the tensor's own device (a device pointer for CUDA tensors). The non-const
  // one is how data gets written, so it marks the storage written (see Storage): write through the
  // pointer it just returned, not through one kept from before an op that read the tensor.
  float* data();
  const float* data() const;

  // Host-side reading for CPU tensors (throws for CUDA tensors: call to(Device::CPU) first).
  std::vector<float> to_vector() const;
  float item() const;  // the only element of a one-element tensor

  // A view with another shape and the same number of elements. Not recorded on a tape: use
  // ops::reshape / ops::flatten inside a recorded computation.
  Tensor view(const Shape& shape) const;
  // Entry n along the first dimension, as a view: shape (d1, …) of a (d0, d1, …) tensor, the same
  // storage, no copy (a batch's image n). Not recorded on a tape.
  Tensor select(int64_t n) const;
  // A new tensor holding a copy of the data, on `device`. Never recorded.
  Tensor to(Device device) const;
  Tensor clone() const;
  // The same data with no tape attached: ops on it are not recorded.
  Tensor detach() const;

  // Leaves (parameters) that want their gradient accumulated by Tape::backward.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on);
  Tensor grad() const;  // undefined until a backward pass wrote it
  void zero_grad();     // drops the gradient buffer

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Throws InputError "<op>: expected <what> <expected>, got <actual>" when the shapes differ.
void check_same_shape(const char* op, const char* what, const Shape& expected, const Shape& actual);
// Throws InputError unless the tensor is defined and has `ndim` dimensions.
void check_ndim(const char* op, const char* what, const Tensor& t, int ndim);

}  // namespace gcam
