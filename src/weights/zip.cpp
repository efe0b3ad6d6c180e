// zip.cpp — reading a ZIP central directory (see zip.h).
#include "zip.h"

#include <algorithm>

namespace gcam::weights {

namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kCentralEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

}  // namespace

std::vector<ZipEntry> read_zip_directory(const FileMap& file) {
  const uint64_t size = file.size();
  if (size < 22) file.fail("zip archive too short for an end-of-central-directory record");
  // 1. The end record: scan back over at most a 65,535-byte comment.
  uint64_t eocd = UINT64_MAX;
  const uint64_t lowest = size >= 22 + 65535 ? size - 22 - 65535 : 0;
  for (uint64_t at = size - 22 + 1; at-- > lowest;) {
    if (read_u32(file.at(at, 4, "zip end record")) == kEndOfCentralDirectory) {
      eocd = at;
      break;
    }
  }
  if (eocd == UINT64_MAX) file.fail("not a complete zip archive (no end-of-central-directory record; truncated?)");
  const uint8_t* end = file.at(eocd, 22, "zip end record");
  uint64_t count = read_u16(end + 10);
  uint64_t directory_size = read_u32(end + 12);
  uint64_t directory_offset = read_u32(end + 16);
  // 2. zip64: the locator sits just before the end record and points at the zip64 end record.
  if (eocd >= 20 && read_u32(file.at(eocd - 20, 4, "zip64 locator")) == kZip64Locator) {
    const uint64_t zip64_end = read_u64(file.at(eocd - 20 + 8, 8, "zip64 locator"));
    const uint8_t* z = file.at(zip64_end, 56, "zip64 end record");
    if (read_u32(z) != kZip64End) file.fail("bad zip64 end-of-central-directory record");
    count = read_u64(z + 32);
    directory_size = read_u64(z + 40);
    directory_offset = read_u64(z + 48);
  }
  file.at(directory_offset, directory_size, "zip central directory");
  if (count > directory_size / 46) file.fail("zip central directory claims more entries than it can hold");

  // 3. The entries.
  std::vector<ZipEntry> entries;
  uint64_t at = directory_offset;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* e = file.at(at, 46, "zip directory entry");
    if (read_u32(e) != kCentralEntry) file.fail("bad zip central directory entry");
    ZipEntry entry;
    entry.method = read_u16(e + 10);
    uint64_t compressed = read_u32(e + 20);
    entry.size = read_u32(e + 24);
    const uint16_t name_length = read_u16(e + 28), extra_length = read_u16(e + 30), comment_length = read_u16(e + 32);
    uint64_t local = read_u32(e + 42);
    const uint8_t* name = file.at(at + 46, name_length, "zip entry name");
    entry.name.assign(reinterpret_cast<const char*>(name), name_length);
    // zip64 extended information: 8-byte values for whichever fields hold 0xFFFFFFFF, in this order.
    const uint8_t* extra = file.at(at + 46 + name_length, extra_length, "zip entry extra field");
    for (uint64_t x = 0; x + 4 <= extra_length;) {
      const uint16_t id = read_u16(extra + x), length = read_u16(extra + x + 2);
      if (x + 4 + length > extra_length) file.fail("bad zip extra field in entry " + entry.name);
      if (id == 0x0001) {
        uint64_t y = x + 4;
        auto take = [&](uint64_t& field) {
          if (field != 0xFFFFFFFFu) return;
          if (y + 8 > x + 4 + length) file.fail("short zip64 extra field in entry " + entry.name);
          field = read_u64(extra + y);
          y += 8;
        };
        take(entry.size);
        take(compressed);
        take(local);
      }
      x += 4 + length;
    }
    // 4. The local header gives the real start of the data.
    const uint8_t* l = file.at(local, 30, "zip local header");
    if (read_u32(l) != kLocalHeader) file.fail("bad zip local header for entry " + entry.name);
    entry.data_offset = local + 30 + read_u16(l + 26) + read_u16(l + 28);
    if (entry.method == 0 && compressed != entry.size) file.fail("stored zip entry " + entry.name + " has two sizes");
    file.at(entry.data_offset, entry.method == 0 ? entry.size : compressed, ("zip entry " + entry.name).c_str());
    entries.push_back(std::move(entry));
    at += 46 + name_length + extra_length + comment_length;
  }
  return entries;
}

}  // namespace gcam::weights
