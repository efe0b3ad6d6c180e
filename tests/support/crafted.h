// crafted.h — hostile files made byte by byte, as an attacker would write them (internal to the tests and
// the fuzzers' seeds).
//
// The pickles are protocol 2, written opcode by opcode (Python's pickletools names them), and packed as
// torch.save packs them: a zip of stored members "archive/data.pkl" and "archive/data/<key>", or the
// legacy stream of pickles (magic number, protocol 1001, sys_info, the state dict, the storage keys)
// followed by the storages.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gcam::test::crafted {

using Bytes = std::vector<uint8_t>;

// Pickle opcodes, as strings of bytes to concatenate.
std::string text(const std::string& s);                  // BINUNICODE
std::string integer(int64_t i);                          // BININT, or LONG1 when it needs 8 bytes
std::string global(const std::string& module, const std::string& name);  // GLOBAL
std::string tuple(const std::vector<std::string>& items);  // MARK items TUPLE
std::string ordered_dict();                              // collections.OrderedDict()
// torch._utils._rebuild_tensor_v2 of a float32 storage `key` of `numel` elements, as the zip format
// (or, with legacy = true, the legacy format: a sixth element, no view) names it.
std::string tensor(const std::string& key, int64_t numel, int64_t offset, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& strides, bool legacy = false);
// PROTO 2, OrderedDict(), then SETITEMS of the entries (name → opcodes of a value), STOP.
std::string state_dict(const std::vector<std::pair<std::string, std::string>>& entries);

// A zip archive of stored members, as torch.save writes it.
Bytes zip(const std::vector<std::pair<std::string, Bytes>>& members);
// A zip checkpoint: data.pkl and the storages data/<key>.
Bytes torch_zip(const std::string& pickle, const std::vector<std::pair<std::string, Bytes>>& storages = {});
// A legacy checkpoint whose state-dict pickle is `pickle` (and whose storage-key list is `keys`, with
// their storages after it).
Bytes torch_legacy(const std::string& pickle, const std::vector<std::pair<std::string, Bytes>>& storages = {});
// A safetensors file: the 8-byte length, the header as given, then `buffer`.
Bytes safetensors(const std::string& header, const Bytes& buffer = {});

Bytes floats(const std::vector<float>& values);  // little-endian float32

void write(const std::string& path, const Bytes& bytes);

}  // namespace gcam::test::crafted
