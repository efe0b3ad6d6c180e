// file_map.cpp — mmap with bounds checks (see file_map.h).
#include "file_map.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "gcam/error.h"
#include "gcam/printable.h"

namespace gcam::weights {

namespace {

// The mapped files, for the SIGBUS handler: fixed slots it can read without locks or allocation.
constexpr int kSlots = 64;
struct MappedSlot {
  std::atomic<const uint8_t*> begin{nullptr};
  std::atomic<uint64_t> size{0};
  char path[512];
};
MappedSlot g_mapped[kSlots];

void write_text(const char* text) { (void)!::write(STDERR_FILENO, text, std::strlen(text)); }

void on_sigbus(int signal, siginfo_t* info, void*) {
  const auto* address = static_cast<const uint8_t*>(info->si_addr);
  for (MappedSlot& slot : g_mapped) {
    const uint8_t* begin = slot.begin.load();
    if (begin && address >= begin && address < begin + slot.size.load()) {
      write_text(program_invocation_short_name);
      write_text(": ");
      write_text(slot.path);
      write_text(": the file shrank while it was being read\n");
      ::_exit(2);
    }
  }
  ::signal(signal, SIG_DFL);  // not a mapped file's page: the default, as if no handler had been there
  ::raise(signal);
}

// Installs on_sigbus once, unless the program has its own SIGBUS handler.
void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGBUS, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, nullptr);
  });
}

std::mutex g_slots_mutex;  // for the threads that map and unmap; the handler only reads

int register_mapping(const uint8_t* begin, uint64_t size, const std::string& path) {
  install_sigbus_handler();
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  for (int i = 0; i < kSlots; ++i) {
    if (g_mapped[i].begin.load() != nullptr) continue;
    std::snprintf(g_mapped[i].path, sizeof g_mapped[i].path, "%s", printable(path).c_str());
    g_mapped[i].size.store(size);
    g_mapped[i].begin.store(begin);  // last: the handler never sees a slot half filled
    return i;
  }
  return -1;  // more than 64 files mapped at once: this one keeps SIGBUS's default
}

void unregister_mapping(int slot) {
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  g_mapped[slot].begin.store(nullptr);
}

}  // namespace

int open_regular_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw InputError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(path + ": not a regular file");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

FileMap::FileMap(const std::string& path) : path_(path) {
  const int fd = open_regular_file(path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(std::string("cannot read: ") + std::strerror(errno));
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
    slot_ = register_mapping(data_, size_, path_);
  }
  ::close(fd);
}

FileMap::~FileMap() {
  if (slot_ >= 0) unregister_mapping(slot_);
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
