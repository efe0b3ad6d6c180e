// idx.cpp — the IDX file format (LeCun's MNIST format), read through zlib.
//
//   magic    4 bytes big-endian: 0x00 0x00 type ndim   (type 0x08 = unsigned byte)
//   sizes    ndim × 4 bytes big-endian
//   data     the product of the sizes, in C order
// gzread reads gzip files and passes plain files through unchanged, so both forms are accepted.
//
// The sizes in the header say how much data should follow, not how much does: the data is read in 1 MB
// pieces and kept as they arrive, so a 16-byte file that announces 4 GiB is refused having allocated 1 MB,
// and memory never runs far ahead of what the file really holds.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <memory>

#include "gcam/checked.h"
#include "gcam/data.h"
#include "gcam/error.h"

namespace gcam::data {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Exactly `size` bytes, or an InputError saying the file ended early.
void read_exact(gzFile_s* f, const std::string& path, void* out, size_t size, const char* what) {
  int error = 0;
  const int got = gzread(f, out, static_cast<unsigned>(size));
  if (got < 0) throw InputError(path + ": cannot read (" + gzerror(f, &error) + ")");
  if (static_cast<size_t>(got) != size)
    throw InputError(path + ": truncated: the file ends inside the " + what);
}

uint32_t big_endian(const uint8_t* b) {
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
}

// The sizes of an IDX file of unsigned bytes with `ndim` dimensions, and its data.
std::vector<int64_t> read_idx_file(const std::string& path, int ndim, std::vector<uint8_t>* data) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))  // a FIFO would block the open forever
    throw InputError(path + ": not a regular file");
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) throw InputError(path + ": cannot open");
  uint8_t header[4];
  read_exact(f.get(), path, header, 4, "header");
  if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] != ndim)
    throw InputError(path + ": not an IDX file of " + std::to_string(ndim) + "-D unsigned bytes (magic " +
                     std::to_string(big_endian(header)) + ")");
  std::vector<int64_t> sizes(static_cast<size_t>(ndim));
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) {
    uint8_t b[4];
    read_exact(f.get(), path, b, 4, "header");
    sizes[d] = big_endian(b);
    if (sizes[d] == 0 || sizes[d] > (int64_t{1} << 24)) throw InputError(path + ": implausible size " + std::to_string(sizes[d]));
    const std::optional<uint64_t> product = checked::product(static_cast<uint64_t>(total), static_cast<uint64_t>(sizes[d]), uint64_t{1} << 32);
    if (!product) throw InputError(path + ": the data would be larger than 4 GiB");
    total = static_cast<int64_t>(*product);
  }
  constexpr int64_t kPiece = int64_t{1} << 20;
  std::vector<uint8_t> piece(static_cast<size_t>(std::min(kPiece, total)));
  data->clear();
  for (int64_t done = 0; done < total; done += kPiece) {
    const size_t n = static_cast<size_t>(std::min(kPiece, total - done));
    read_exact(f.get(), path, piece.data(), n, "data");
    data->insert(data->end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(n));
  }
  uint8_t extra;
  if (gzread(f.get(), &extra, 1) != 0) throw InputError(path + ": trailing bytes after the data");
  return sizes;
}

}  // namespace

ItemSet read_idx(const std::string& images_path, const std::string& labels_path) {
  ItemSet set;
  const std::vector<int64_t> image_sizes = read_idx_file(images_path, 3, &set.pixels);
  const std::vector<int64_t> label_sizes = read_idx_file(labels_path, 1, &set.labels);
  set.count = image_sizes[0];
  set.rows = image_sizes[1];
  set.cols = image_sizes[2];
  if (label_sizes[0] != set.count)
    throw InputError(labels_path + ": " + std::to_string(label_sizes[0]) + " labels for " + std::to_string(set.count) +
                     " images in " + images_path);
  for (uint8_t label : set.labels)
    if (label >= 10) throw InputError(labels_path + ": label " + std::to_string(label) + " is not a class 0…9");
  return set;
}

ItemSet load_fashion_mnist(const std::string& directory, Split split) {
  const std::string stem = directory + "/" + (split == Split::Train ? "train" : "t10k");
  return read_idx(stem + "-images-idx3-ubyte.gz", stem + "-labels-idx1-ubyte.gz");
}

const std::array<const char*, 10>& fashion_mnist_classes() {
  static const std::array<const char*, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace gcam::data
