// test_hostile_inputs.cpp — files made to hurt the reader (issue 31's crafted files): each is refused
// with one InputError naming the file, and what reading it costs stays bounded — memory measured as the
// peak resident size of a child process that reads it (support/child.h), time by a timeout.
//
// The bounds the README states, checked here: a checkpoint needs at most its own size (mapped) plus the
// model's tensors plus its pickle's or header's budget (64 MiB + a few times the bytes it comes from);
// an image at most its pixel budget; a data file at most what it really holds.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include "gcam/data.h"
#include "gcam/error.h"
#include "gcam/image.h"
#include "gcam/models.h"
#include "gcam/printable.h"
#include "gcam/shape.h"
#include "gcam/tensor.h"
#include "gcam/weights.h"
#include "support/child.h"
#include "support/crafted.h"

namespace gcam {
namespace {

namespace crafted = test::crafted;
using namespace std::string_literals;
using End = test::ChildOutcome::End;

std::string scratch(const std::string& name) { return ::testing::TempDir() + "hostile_" + name; }

// The file at `path`, opened as explain opens a checkpoint, with its classifier's rows as the class count.
void open_as_explain_does(const std::string& path) {
  const auto checkpoint = weights::Checkpoint::open(path);
  const weights::StoredTensor* fc = checkpoint->find("fc.weight");
  auto model = models::make_model("resnet18", fc && !fc->shape.empty() ? fc->shape[0] : 1000);
  models::load_weights(*model, *checkpoint);
}

// `read(path)` on the crafted `bytes`, in a child: refused with an InputError that names the file and
// contains `why`, costing at most `max_mb` of resident memory, within 60 s.
void expect_refused(const std::string& name, const crafted::Bytes& bytes, const std::string& why, double max_mb,
                    void (*read)(const std::string&) = open_as_explain_does) {
  const std::string path = scratch(name);
  crafted::write(path, bytes);
  const test::ChildOutcome o = test::run_in_child([&] { read(path); });
  EXPECT_EQ(o.end, End::InputError) << test::describe(o);
  EXPECT_EQ(o.message.rfind(path, 0), 0u) << o.message;  // it starts with the file's name
  EXPECT_NE(o.message.find(why), std::string::npos) << o.message;
  EXPECT_EQ(o.message.find('\n'), std::string::npos) << o.message;
  if (test::kMemoryIsMeasured) EXPECT_LT(o.added_mb(), max_mb) << test::describe(o);
  std::remove(path.c_str());
}

// --- Sizes that wrap ------------------------------------------------------------------------------------

TEST(HostileInputs, ShapesAndStoragesCannotWrap) {
  EXPECT_THROW(Shape({int64_t{1} << 62, 512}), InputError);  // 2^71 elements: wrapped to 0 before
  EXPECT_THROW(Shape({int64_t{1} << 31, int64_t{1} << 31, 2}), InputError);
  EXPECT_EQ(Shape({int64_t{1} << 30, int64_t{1} << 30}).numel(), Shape::kMaxNumel);  // the largest allowed
  EXPECT_THROW(Storage(Device::CPU, Shape::kMaxNumel + 1), InputError);
  EXPECT_THROW(models::make_model("resnet18", models::kMaxClasses + 1), InputError);
}

// The 16 KB checkpoint: fc.weight a stride-0 view of one stored float, shape (2^62, 512).
TEST(HostileInputs, RepeatedViewOfOneFloatIsRefused) {
  const std::string pickle = crafted::state_dict({{"fc.weight", crafted::tensor("0", 1, 0, {int64_t{1} << 62, 512}, {0, 0})}});
  expect_refused("stride0_zip.pth", crafted::torch_zip(pickle, {{"0", crafted::floats({1.0f})}}),
                 "more elements than its storage of 1 holds", 50);
  // Shapes whose product wraps to a small number are refused the same way.
  const std::string wraps = crafted::state_dict({{"fc.weight", crafted::tensor("0", 1, 0, {int64_t{1} << 32, int64_t{1} << 32}, {0, 0})}});
  expect_refused("wraps_zip.pth", crafted::torch_zip(wraps, {{"0", crafted::floats({1.0f})}}), "more elements than its storage", 200);
  // And 2^21 classes over a 512-float storage (a 4.25 GB model from a 2 KB file before).
  const std::string classes = crafted::state_dict({{"fc.weight", crafted::tensor("0", 512, 0, {int64_t{1} << 21, 512}, {0, 1})}});
  expect_refused("classes_zip.pth", crafted::torch_zip(classes, {{"0", crafted::floats(std::vector<float>(512))}}),
                 "more elements than its storage", 200);
}

// --- Pickles --------------------------------------------------------------------------------------------

// None, then 300 000 TUPLE1s: a tuple nested 300 000 deep, which overflowed the stack when freed.
std::string deep_pickle() { return "\x80\x02N" + std::string(300000, '\x85') + "."; }

TEST(HostileInputs, DeeplyNestedPickleIsRefused) {
  expect_refused("deep_zip.pth", crafted::torch_zip(deep_pickle()), "nested more than 100 deep", 200);
  expect_refused("deep_legacy.pth", crafted::torch_legacy(deep_pickle()), "nested more than 100 deep", 200);
}

TEST(HostileInputs, RecursivePickleIsRefused) {
  // l = []; l.append(l), and d = {}; d['x'] = [d] (the container changes after it is inside another).
  expect_refused("self_zip.pth", crafted::torch_zip("\x80\x02]q\x00h\x00" "a."s), "inside itself", 200);
  expect_refused("cycle_zip.pth", crafted::torch_zip("\x80\x02}q\x00"s + crafted::text("x") + "]h\x00" "as."s), "changed after", 200);
}

// A list of 5 million references to one None (2 bytes each): 230× the file's size in memory before.
TEST(HostileInputs, AppendsBombStaysWithinItsBudget) {
  std::string pickle = "\x80\x02Nq\x01]q\x02(";
  for (int i = 0; i < 5'000'000; ++i) pickle += "h\x01";
  pickle += "e.";
  // The budget (64 MiB + 2 × 10 MB) and the file's own 10 MB; 2.3 GB before.
  expect_refused("appends_zip.pth", crafted::torch_zip(pickle), "would take more than", 2 * (64 + 2 * 10) + 10);
}

// 60 000 distinct keys, in a pickled dict and in a safetensors header: a quadratic duplicate check took
// 9.8 s; now well under one.
TEST(HostileInputs, ManyKeysAreCheckedInLinearTime) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::string header = "{";
  for (int i = 0; i < 60000; ++i) {
    entries.emplace_back("k" + std::to_string(i), "N");
    header += std::string(i ? "," : "") + "\"t" + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
  }
  header += "}";
  const std::string pickled = scratch("keys_zip.pth"), header_file = scratch("keys.safetensors");
  crafted::write(pickled, crafted::torch_zip(crafted::state_dict(entries)));
  crafted::write(header_file, crafted::safetensors(header));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(weights::Checkpoint::open(pickled), InputError);  // (its values are not tensors)
  EXPECT_EQ(weights::Checkpoint::open(header_file)->tensors().size(), 60000u);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

// --- safetensors ----------------------------------------------------------------------------------------

// A 10 MB header of one array of zeros: 933 MB of parsed values before.
TEST(HostileInputs, HugeSafetensorsHeaderStaysWithinItsBudget) {
  std::string header = "{\"a\":[0";
  while (header.size() < 10'000'000) header += ",0";
  header += "]}";
  // The budget (16 MiB + 4 × 10 MB; an array's growing storage may hold twice its values for a moment)
  // and the file's own 10 MB; 933 MB before.
  expect_refused("zeros.safetensors", crafted::safetensors(header), "would take more than", 2 * (16 + 40) + 10);
}

// --- Data files -----------------------------------------------------------------------------------------

// A 16-byte IDX header announcing 2^24 × 16 × 16 bytes of images (4 GiB), with no data after it.
void read_idx_images(const std::string& path) { data::read_idx(path, path); }
TEST(HostileInputs, IdxHeaderAloneAllocatesNothingLarge) {
  const crafted::Bytes header = {0, 0, 8, 3, 1, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16};
  expect_refused("header_only.idx", header, "ends inside the data", 10, read_idx_images);
}

// --- Files that are not files ---------------------------------------------------------------------------

void read_picture(const std::string& path) { image::read_image(path); }
TEST(HostileInputs, FifoIsRefusedNotWaitedOn) {
  const std::string fifo = scratch("fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (void (*read)(const std::string&) : {open_as_explain_does, read_picture, read_idx_images}) {
    const test::ChildOutcome o = test::run_in_child([&] { read(fifo); }, 10);
    EXPECT_EQ(o.end, End::InputError) << test::describe(o);
    EXPECT_EQ(o.message, fifo + ": not a regular file");
  }
  EXPECT_THROW(weights::sha256_file(fifo), InputError);
  std::remove(fifo.c_str());
}

// A checkpoint cut short after it was opened (mapped): one line naming it and exit code 2, not SIGBUS.
TEST(HostileInputs, CheckpointThatShrinksWhileMappedIsAnErrorNotASignal) {
  const std::string path = scratch("shrinks.safetensors");
  std::vector<float> values(1 << 20, 0.5f);  // 4 MB: pages well past the header's
  crafted::write(path, crafted::safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576],\"data_offsets\":[0,4194304]}}    ",
                                            crafted::floats(values)));
  const test::ChildOutcome o = test::run_in_child([&] {
    const auto checkpoint = weights::Checkpoint::open(path);
    ASSERT_EQ(truncate(path.c_str(), 4096), 0);
    checkpoint->read_float(checkpoint->tensors()[0], Shape({1 << 20}));
  });
  EXPECT_EQ(o.end, End::Exit) << test::describe(o);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.message.find(path + ": the file shrank while it was being read\n"), std::string::npos) << o.message;
  std::remove(path.c_str());
}

// --- Printing -------------------------------------------------------------------------------------------

TEST(HostileInputs, ControlCharactersArePrintedEscaped) {
  EXPECT_EQ(printable("fc.weight"), "fc.weight");
  EXPECT_EQ(printable("a\x1b[2Jb"), "a\\x1B[2Jb");        // ESC: a terminal would clear the screen
  EXPECT_EQ(printable("tab\there\n"), "tab\\x09here\\x0A");
  EXPECT_EQ(printable("\x7f"), "\\x7F");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x86\x92"), "caf\xc3\xa9 \xe2\x86\x92");  // UTF-8 letters pass
  EXPECT_EQ(printable("\xc2\x9b" "31m"), "\\xC2\\x9B31m");  // U+009B, the one-character CSI
  EXPECT_EQ(printable("\x9b" "31m"), "\\x9B31m");          // the same as a bare byte
  EXPECT_EQ(printable("\xc0\xaf"), "\\xC0\\xAF");          // an overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xED\\xA0\\x80");  // a surrogate
  EXPECT_EQ(printable("\xe2\x86"), "\\xE2\\x86");          // cut short
}

}  // namespace
}  // namespace gcam
