// mutations.h — a file cut short and changed byte by byte, for the tests that hold gcam to "bad input
// never crashes": every mutant is either read or refused with one InputError line naming the file.
//
// The mutants of a file of n bytes, for a plan (every_byte_below = s, stride_beyond = d):
//   cut      the first k bytes, for every k < s, then k = s, s + d, s + 2d, … < n
//   changed  byte k replaced by 0x00, by 0xFF, and by itself with its lowest and its highest bit flipped
//            (a small change to a length or a count, a large one), at the same k
// A file's header (where its lengths, offsets and shapes are) is best covered byte by byte; its bulk
// (pixels, weights) at a stride.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gcam::test {

struct MutationPlan {
  size_t every_byte_below;
  size_t stride_beyond = 1;
};

// What became of the mutants.
struct MutantCounts {
  int64_t read = 0, refused = 0, failed = 0;
};

std::vector<uint8_t> file_bytes(const std::string& path);

// Writes each mutant of `original` to a file called `name` in a scratch folder and calls read(path) on
// it, which should read the file as a program would and may throw. A changed file that read() accepts or
// refuses with an InputError (one line, naming the path) passes, and so does a file cut short that it
// refuses so (every format gcam reads says how long it is: a cut file is never whole). Anything else is a
// test failure naming the mutant (the first 10 are reported). A crash names the mutant on stderr before
// the process dies.
MutantCounts expect_read_or_refused(const std::string& name, const std::vector<uint8_t>& original, MutationPlan plan,
                                    const std::function<void(const std::string& path)>& read);

}  // namespace gcam::test
