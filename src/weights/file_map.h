// file_map.h — a read-only memory map of a weight file, with bounds-checked access (internal).
//
// Every size and offset read from a file is checked against the file's length before it is used, so a
// truncated or hostile file gives an InputError naming the file, never an out-of-bounds read. Pages a
// loader has finished with can be released (`release`), so that loading holds one copy of the weights:
// the one in gcam's tensors.
//
// Two things a file can do to a reader besides lying about sizes:
//   - be something other than a file: a FIFO's open() would wait forever for a writer, a device would
//     read without end. Only regular files are opened, and the check comes before anything blocks.
//   - shrink while it is mapped (a download being overwritten): touching a page past the new end raises
//     SIGBUS. A FileMap registers its range, and a SIGBUS inside a registered range (installed while no
//     other handler is) prints "<program>: <path>: the file shrank while it was being read" and exits
//     with status 2, as any bad input does; a SIGBUS anywhere else keeps its default meaning.
#pragma once

#include <cstdint>
#include <string>

namespace gcam::weights {

class FileMap {
 public:
  explicit FileMap(const std::string& path);  // throws InputError "<path>: <why>"
  ~FileMap();
  FileMap(const FileMap&) = delete;
  FileMap& operator=(const FileMap&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // The bytes [offset, offset + length): InputError "<path>: <what> … past the end" if out of range.
  const uint8_t* at(uint64_t offset, uint64_t length, const char* what) const;
  // Tells the kernel the pages fully inside [offset, offset + length) are no longer needed.
  void release(uint64_t offset, uint64_t length) const;
  // Throws InputError "<path>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  int slot_ = -1;  // its place among the mapped files the SIGBUS handler knows
};

// Opens `path` for reading (O_CLOEXEC), refusing what is not a regular file before anything can block on
// it: InputError "<path>: not a regular file" or "<path>: cannot open: <why>". The caller closes the fd.
int open_regular_file(const std::string& path);

// Little-endian readers over bounds-checked bytes.
uint16_t read_u16(const uint8_t* p);
uint32_t read_u32(const uint8_t* p);
uint64_t read_u64(const uint8_t* p);

}  // namespace gcam::weights
