// sha256.cpp — SHA-256 (FIPS 180-4) of a file, for checking official weight files against the
// manifest (torch.hub names files by the first 8 hex digits of their SHA-256).
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "file_map.h"
#include "gcam/error.h"
#include "gcam/weights.h"

namespace gcam::weights {

namespace {

constexpr std::array<uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

// One 64-byte block into the state h.
void compress(std::array<uint32_t, 8>& h, const uint8_t* block) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = uint32_t(block[4 * i]) << 24 | uint32_t(block[4 * i + 1]) << 16 | uint32_t(block[4 * i + 2]) << 8 | block[4 * i + 3];
  for (int i = 16; i < 64; ++i) {
    const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; ++i) {
    const uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
    const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

}  // namespace

std::string sha256_file(const std::string& path) {
  // Read, not mapped: a file that shrinks while it is hashed (a download still being written, say) is then
  // a short read and an error, where a mapped page past the new end would be a SIGBUS.
  const int fd = open_regular_file(path);
  std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::vector<uint8_t> buffer(uint64_t{1} << 20);
  uint64_t size = 0, rest = 0;  // bytes hashed or held; of them, not yet compressed (rest < 64)
  while (true) {
    const ssize_t n = ::read(fd, buffer.data() + rest, buffer.size() - rest);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw InputError(path + ": cannot read: " + std::strerror(error));
    }
    if (n == 0) break;
    size += static_cast<uint64_t>(n);
    const uint64_t held = rest + static_cast<uint64_t>(n), whole = held / 64 * 64;
    for (uint64_t at = 0; at < whole; at += 64) compress(h, buffer.data() + at);
    rest = held - whole;
    std::memmove(buffer.data(), buffer.data() + whole, rest);
  }
  struct stat st {};
  const bool same_size = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == size;
  ::close(fd);
  if (!same_size) throw InputError(path + ": the file changed while it was being read");
  // Padding: 0x80, zeros, then the length in bits as a big-endian u64.
  uint8_t tail[128] = {};
  if (rest) std::memcpy(tail, buffer.data(), rest);
  tail[rest] = 0x80;
  const uint64_t tail_size = rest + 1 + 8 <= 64 ? 64 : 128;
  const uint64_t bits = size * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  for (uint64_t at = 0; at < tail_size; at += 64) compress(h, tail + at);
  char hex[65];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 8 * i, 9, "%08x", h[i]);
  return std::string(hex, 64);
}

}  // namespace gcam::weights
