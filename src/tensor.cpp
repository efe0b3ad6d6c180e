// Tensor: storage ownership, factories, views, device moves and parameter gradients.
#include "gcam/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "device_memory.h"
#include "gcam/error.h"

namespace gcam {

namespace {

constexpr size_t kHostAlignment = 64;  // one cache line; also what AVX-512 loads like

uint64_t next_tensor_id() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<TensorImpl> make_impl(std::shared_ptr<Storage> storage, int64_t offset,
                                      const Shape& shape) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->offset = offset;
  impl->shape = shape;
  impl->id = next_tensor_id();
  return impl;
}

// A fresh host buffer's pages are mapped on first write, one page fault each (4 KB). In a copy from the
// device the driver writes them one after another; a large buffer (a batch's input gradients: 64 ×
// 3 × 224 × 224 floats, 38 MB, 9 400 pages) is first touched by all threads, each faulting its share.
// Measured on the development machine (2 cores), 38 MB: 36–48 ms to fault and fill by one thread,
// 17–20 ms to fault by two plus 8–10 ms to fill.
float* touched_in_parallel(float* data, int64_t numel) {
  constexpr int64_t kPage = 4096 / sizeof(float), kParallelFrom = int64_t{1} << 20;  // floats
  if (numel < kParallelFrom) return data;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < numel; i += kPage) data[i] = 0.0f;
  return data;
}

}  // namespace

bool cuda_available() { return cuda::device_count() > 0; }

Storage::Storage(Device dev, int64_t n) : device(dev), numel(n) {
  GCAM_CHECK(n >= 0 && n <= Shape::kMaxNumel, "storage: cannot hold ", n, " elements");
  if (n == 0) return;
  if (device == Device::CPU) {
    // n ≤ 2^60, so 4·n rounded up to the alignment stays far below 2^64.
    size_t bytes = static_cast<size_t>(n) * sizeof(float);
    bytes = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    data = static_cast<float*>(std::aligned_alloc(kHostAlignment, bytes));
    if (!data) throw std::bad_alloc();
  } else {
    data = cuda::device_alloc(n);
  }
}

Storage::~Storage() {
  if (device == Device::CPU)
    std::free(data);
  else
    cuda::device_free(data);
}

Tensor Tensor::empty(const Shape& shape, Device device) {
  return Tensor(make_impl(std::make_shared<Storage>(device, shape.numel()), 0, shape));
}

Tensor Tensor::zeros(const Shape& shape, Device device) {
  Tensor t = empty(shape, device);
  if (t.numel() == 0) return t;  // no storage: memset may not be handed its null pointer
  if (device == Device::CPU)
    std::memset(t.data(), 0, static_cast<size_t>(t.numel()) * sizeof(float));
  else
    cuda::device_zero(t.data(), t.numel());
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = value;
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values) {
  GCAM_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "tensor: ", values.size(),
             " values do not fill shape ", shape.str());
  Tensor t = empty(shape);
  if (!values.empty()) std::memcpy(t.data(), values.data(), values.size() * sizeof(float));
  return t;
}

const Shape& Tensor::shape() const {
  GCAM_CHECK(impl_, "tensor: use of an undefined tensor");
  return impl_->shape;
}

Device Tensor::device() const {
  GCAM_CHECK(impl_, "tensor: use of an undefined tensor");
  return impl_->storage->device;
}

uint64_t Tensor::id() const { return impl_ ? impl_->id : 0; }

float* Tensor::data() {
  GCAM_CHECK(impl_, "tensor: use of an undefined tensor");
  impl_->storage->written.store(true, std::memory_order_relaxed);  // a plain store: cheap in loops
  return impl_->storage->data + impl_->offset;
}

const float* Tensor::data() const {
  GCAM_CHECK(impl_, "tensor: use of an undefined tensor");
  return impl_->storage->data + impl_->offset;
}

std::vector<float> Tensor::to_vector() const {
  GCAM_CHECK(device() == Device::CPU, "tensor: to_vector needs a CPU tensor; call to(Device::CPU)");
  return std::vector<float>(data(), data() + numel());
}

float Tensor::item() const {
  GCAM_CHECK(numel() == 1, "tensor: item() needs one element, shape is ", shape().str());
  return to(Device::CPU).data()[0];
}

Tensor Tensor::view(const Shape& shape) const {
  GCAM_CHECK(shape.numel() == numel(), "view: cannot view ", this->shape().str(), " as ",
             shape.str());
  auto impl = make_impl(impl_->storage, impl_->offset, shape);
  impl->tape = impl_->tape;
  return Tensor(impl);
}

Tensor Tensor::select(int64_t n) const {
  GCAM_CHECK(impl_, "tensor: use of an undefined tensor");
  GCAM_CHECK(ndim() >= 1, "select: a tensor of shape ", shape().str(), " has no first dimension");
  GCAM_CHECK(n >= 0 && n < size(0), "select: entry ", n, " of a first dimension of ", size(0));
  int64_t dims[Shape::kMaxDims];
  for (int d = 1; d < ndim(); ++d) dims[d - 1] = size(d);
  const Shape entry = Shape::of(dims, ndim() - 1);
  return Tensor(make_impl(impl_->storage, impl_->offset + n * entry.numel(), entry));
}

Tensor Tensor::to(Device target) const {
  Tensor out = empty(shape(), target);
  const int64_t n = numel();
  if (n == 0) return out;  // nothing to copy (and no storage to copy from)
  Device source = device();
  if (source == Device::CPU && target == Device::CPU)
    std::memcpy(out.data(), data(), static_cast<size_t>(n) * sizeof(float));
  else if (source == Device::CPU)
    cuda::copy_host_to_device(out.data(), data(), n);
  else if (target == Device::CPU)
    cuda::copy_device_to_host(touched_in_parallel(out.data(), n), data(), n);
  else
    cuda::copy_device_to_device(out.data(), data(), n);
  return out;
}

Tensor Tensor::clone() const { return to(device()); }

Tensor Tensor::detach() const {
  auto impl = make_impl(impl_->storage, impl_->offset, shape());
  return Tensor(impl);
}

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  GCAM_CHECK(impl_, "tensor: use of an undefined tensor");
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return impl_ && impl_->grad ? Tensor(impl_->grad) : Tensor(); }

void Tensor::zero_grad() {
  if (impl_) impl_->grad.reset();
}

void check_same_shape(const char* op, const char* what, const Shape& expected,
                      const Shape& actual) {
  GCAM_CHECK(expected == actual, op, ": expected ", what, " of shape ", expected.str(), ", got ",
             actual.str());
}

void check_ndim(const char* op, const char* what, const Tensor& t, int ndim) {
  GCAM_CHECK(t.defined(), op, ": ", what, " is undefined");
  GCAM_CHECK(t.ndim() == ndim, op, ": expected ", what, " with ", ndim, " dimensions, got shape ",
             t.shape().str());
}

}  // namespace gcam
