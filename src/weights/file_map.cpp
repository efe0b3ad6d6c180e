// file_map.cpp — mmap with bounds checks (see file_map.h).
#include "file_map.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gcam/error.h"

namespace gcam::weights {

FileMap::FileMap(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail(std::string("cannot map: ") + std::strerror(errno));
    }
    data_ = static_cast<const uint8_t*>(p);
    ::madvise(p, size_, MADV_SEQUENTIAL);
  }
  ::close(fd);
}

FileMap::~FileMap() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

const uint8_t* FileMap::at(uint64_t offset, uint64_t length, const char* what) const {
  if (offset > size_ || length > size_ - offset)
    fail(detail::concat(what, " at byte ", offset, " (", length, " bytes) runs past the end of the file (",
                        size_, " bytes)"));
  return data_ + offset;
}

void FileMap::release(uint64_t offset, uint64_t length) const {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t begin = (offset + page - 1) / page * page, end = (offset + length) / page * page;
  if (data_ && end > begin && end <= size_)
    ::madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_DONTNEED);
}

void FileMap::fail(const std::string& message) const { throw InputError(path_ + ": " + message); }

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t read_u32(const uint8_t* p) { return uint32_t(read_u16(p)) | (uint32_t(read_u16(p + 2)) << 16); }
uint64_t read_u64(const uint8_t* p) { return uint64_t(read_u32(p)) | (uint64_t(read_u32(p + 4)) << 32); }

}  // namespace gcam::weights
