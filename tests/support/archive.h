// archive.h — reads the named float32 arrays that tests/oracle/*.py write (layout in archive.py).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gcam/tensor.h"

namespace gcam::test {

class Archive {
 public:
  explicit Archive(const std::string& path);  // throws std::runtime_error on a bad file
  bool has(const std::string& name) const { return tensors_.count(name) > 0; }
  Tensor get(const std::string& name) const;  // throws naming the missing entry
  std::vector<float> values(const std::string& name) const { return get(name).to_vector(); }
  // Names "<prefix>/<i>/..." exist for i = 0 … count−1.
  int count_cases(const std::string& prefix) const;

 private:
  std::map<std::string, Tensor> tensors_;
};

// The oracle file produced at test time by the CTest fixture (GCAM_ORACLE_DIR is set by CMake).
std::string oracle_path(const std::string& file);

}  // namespace gcam::test
