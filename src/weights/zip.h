// zip.h — the central directory of a ZIP archive, as torch.save writes it (internal).
//
// Sizes come from the central directory (torch's local headers hold zeros), data offsets from each
// local header's own name and extra lengths (torch pads to 64 bytes there; other writers don't), and
// zip64 records are honoured. Only stored (uncompressed) members can be read. WEIGHT-FORMATS.md §2.2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "file_map.h"

namespace gcam::weights {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0: stored
  uint64_t size = 0;    // uncompressed
  uint64_t data_offset = 0;
};

std::vector<ZipEntry> read_zip_directory(const FileMap& file);

}  // namespace gcam::weights
