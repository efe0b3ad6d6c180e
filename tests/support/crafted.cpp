// crafted.cpp — see crafted.h. ZIP layout from APPNOTE.TXT (local headers, central directory, end
// record); CRC-32 from zlib.
#include "support/crafted.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace gcam::test::crafted {

namespace {

void put(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>(v >> (8 * i));
}
void put(Bytes& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

std::string text(const std::string& s) {
  std::string out = "X";
  put(out, s.size(), 4);
  return out + s;
}

std::string integer(int64_t i) {
  std::string out;
  if (i >= INT32_MIN && i <= INT32_MAX) {
    out = "J";
    put(out, static_cast<uint64_t>(i), 4);
  } else {
    out = "\x8a\x08";
    put(out, static_cast<uint64_t>(i), 8);
  }
  return out;
}

std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }

std::string tuple(const std::vector<std::string>& items) {
  std::string out = "(";
  for (const std::string& item : items) out += item;
  return out + "t";
}

std::string ordered_dict() { return global("collections", "OrderedDict") + ")R"; }

std::string tensor(const std::string& key, int64_t numel, int64_t offset, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& strides, bool legacy) {
  std::vector<std::string> id = {text("storage"), global("torch", "FloatStorage"), text(key), text("cpu"), integer(numel)};
  if (legacy) id.push_back("N");
  std::vector<std::string> sizes, steps;
  for (int64_t e : shape) sizes.push_back(integer(e));
  for (int64_t s : strides) steps.push_back(integer(s));
  return global("torch._utils", "_rebuild_tensor_v2") +
         tuple({tuple(id) + "Q", integer(offset), tuple(sizes), tuple(steps), "\x89", ordered_dict()}) + "R";
}

std::string state_dict(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = "\x80\x02" + ordered_dict() + "(";
  for (const auto& [name, value] : entries) out += text(name) + value;
  return out + "u.";
}

Bytes zip(const std::vector<std::pair<std::string, Bytes>>& members) {
  Bytes out, directory;
  for (const auto& [name, data] : members) {
    const uint64_t local = out.size();
    const uint32_t crc = static_cast<uint32_t>(crc32(0, data.data(), static_cast<uInt>(data.size())));
    put(out, 0x04034b50, 4), put(out, 20, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 4);  // stored
    put(out, crc, 4), put(out, data.size(), 4), put(out, data.size(), 4), put(out, name.size(), 2), put(out, 0, 2);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), data.begin(), data.end());
    put(directory, 0x02014b50, 4), put(directory, 20, 2), put(directory, 20, 2), put(directory, 0, 2);
    put(directory, 0, 2), put(directory, 0, 4), put(directory, crc, 4), put(directory, data.size(), 4);
    put(directory, data.size(), 4), put(directory, name.size(), 2), put(directory, 0, 2), put(directory, 0, 2);
    put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 4), put(directory, local, 4);
    directory.insert(directory.end(), name.begin(), name.end());
  }
  const uint64_t directory_at = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  put(out, 0x06054b50, 4), put(out, 0, 2), put(out, 0, 2), put(out, members.size(), 2), put(out, members.size(), 2);
  put(out, directory.size(), 4), put(out, directory_at, 4), put(out, 0, 2);
  return out;
}

Bytes torch_zip(const std::string& pickle, const std::vector<std::pair<std::string, Bytes>>& storages) {
  std::vector<std::pair<std::string, Bytes>> members = {{"archive/data.pkl", Bytes(pickle.begin(), pickle.end())}};
  for (const auto& [key, data] : storages) members.push_back({"archive/data/" + key, data});
  return zip(members);
}

Bytes torch_legacy(const std::string& pickle, const std::vector<std::pair<std::string, Bytes>>& storages) {
  std::string out = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";  // the magic number
  out += "\x80\x02M\xe9\x03.";                                                   // protocol 1001
  out += "\x80\x02}.";                                                           // sys_info
  out += pickle;
  std::vector<std::string> keys;
  for (const auto& storage : storages) keys.push_back(text(storage.first));
  out += "\x80\x02(" + std::string() ;
  for (const std::string& k : keys) out += k;
  out += "l.";
  Bytes bytes(out.begin(), out.end());
  for (const auto& [key, data] : storages) {
    put(bytes, data.size() / 4, 8);
    bytes.insert(bytes.end(), data.begin(), data.end());
  }
  return bytes;
}

Bytes safetensors(const std::string& header, const Bytes& buffer) {
  Bytes out;
  put(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), buffer.begin(), buffer.end());
  return out;
}

Bytes floats(const std::vector<float>& values) {
  Bytes out(values.size() * 4);
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

void write(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace gcam::test::crafted
