// archive.cpp — the reader for the oracle container (bounds-checked; a bad file is a test failure).
#include "archive.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace gcam::test {

namespace {

class Reader {
 public:
  explicit Reader(std::vector<char> bytes) : bytes_(std::move(bytes)) {}
  void read(void* out, size_t n) {
    if (n > bytes_.size() - pos_) throw std::runtime_error("oracle archive: truncated");
    if (n == 0) return;  // an empty tensor's data pointer is null, which memcpy may not be given even for 0 bytes
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
  }
  template <typename T>
  T scalar() {
    T v;
    read(&v, sizeof(T));
    return v;
  }

 private:
  std::vector<char> bytes_;
  size_t pos_ = 0;
};

}  // namespace

Archive::Archive(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("oracle archive: cannot open " + path + " (run ctest, which generates it)");
  Reader r(std::vector<char>(std::istreambuf_iterator<char>(in), {}));
  char magic[8];
  r.read(magic, 8);
  if (std::memcmp(magic, "GCAMTEST", 8) != 0) throw std::runtime_error("oracle archive: bad magic in " + path);
  const uint32_t count = r.scalar<uint32_t>();
  for (uint32_t e = 0; e < count; ++e) {
    std::string name(r.scalar<uint32_t>(), '\0');
    r.read(name.data(), name.size());
    const uint32_t ndim = r.scalar<uint32_t>();
    if (ndim > 4) throw std::runtime_error("oracle archive: " + name + " has more than 4 dimensions");
    int64_t dims[4] = {};
    for (uint32_t d = 0; d < ndim; ++d) dims[d] = r.scalar<int64_t>();
    Tensor t = Tensor::empty(Shape::of(dims, static_cast<int>(ndim)));
    r.read(t.data(), static_cast<size_t>(t.numel()) * sizeof(float));
    tensors_[name] = t;
  }
}

Tensor Archive::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw std::runtime_error("oracle archive: no entry " + name);
  return it->second.clone();  // tests may modify what they get
}

int Archive::count_cases(const std::string& prefix) const {
  int n = 0;
  while (has(prefix + "/" + std::to_string(n) + "/y")) ++n;
  return n;
}

std::string oracle_path(const std::string& file) { return std::string(GCAM_ORACLE_DIR) + "/" + file; }

}  // namespace gcam::test
