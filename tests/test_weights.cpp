// Checkpoint loading on the fixtures of tests/oracle/weights_fixtures.py (WEIGHT-FORMATS.md §10):
// every positive case loads with the right names, order, types, shapes and values; every negative case
// is refused with an InputError naming the file; nothing in a checkpoint is ever executed.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "gcam/error.h"
#include "gcam/models.h"
#include "gcam/vocabulary.h"
#include "gcam/weights.h"
#include "support/archive.h"
#include "support/compare.h"
#include "support/mutations.h"
#include "weights/json.h"  // internal: the expectations file is JSON

namespace gcam {
namespace {

std::string fixture(const std::string& name) { return test::oracle_path("weights/" + name); }

const weights::Json& expected_names() {
  static const weights::Json json = [] {
    std::ifstream in(fixture("expected.json"));
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    return weights::parse_json(text.data(), text.size(), "expected.json");
  }();
  return json;
}

const test::Archive& expected_values() {
  static const test::Archive archive(fixture("values.gcamtest"));
  return archive;
}

// Names (in order), types, shapes and values, as torch wrote them.
void check_fixture(const std::string& name) {
  SCOPED_TRACE(name);
  const weights::Json* expected = expected_names().find(name);
  ASSERT_NE(expected, nullptr) << "no expectations for " << name;
  auto checkpoint = weights::Checkpoint::open(fixture(name));
  const auto& tensors = checkpoint->tensors();
  ASSERT_EQ(tensors.size(), expected->items.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const weights::StoredTensor& t = tensors[i];
    const weights::Json& e = expected->items[i];
    EXPECT_EQ(t.name, e.items[0].text);
    EXPECT_EQ(weights::dtype_name(t.dtype), e.items[1].text) << t.name;
    std::vector<int64_t> shape;
    for (const weights::Json& d : e.items[2].items) shape.push_back(d.integer);
    EXPECT_EQ(t.shape, shape) << t.name;
    if (t.shape.size() > 4) continue;
    const Tensor want = expected_values().get(name + "/" + t.name);
    const Tensor got = checkpoint->read_float(t, want.shape());
    EXPECT_TRUE(test::near_relative(got, want, 0.0, 1e-30)) << t.name;  // bit-exact after conversion
  }
}

TEST(Weights, MixedTypesViewsAndEmptyTensorsInEveryFormat) {
  for (const char* name : {"mixed_zip.pth", "mixed_legacy.pth", "mixed.safetensors"}) check_fixture(name);
  auto st = weights::Checkpoint::open(fixture("mixed.safetensors"));
  ASSERT_EQ(st->metadata().size(), 1u);
  EXPECT_EQ(st->metadata()[0].second, "mixed dtypes");
  EXPECT_EQ(st->format(), weights::Format::Safetensors);
  EXPECT_EQ(weights::Checkpoint::open(fixture("mixed_zip.pth"))->format(), weights::Format::TorchZip);
  EXPECT_EQ(weights::Checkpoint::open(fixture("mixed_legacy.pth"))->format(), weights::Format::TorchLegacy);
}

TEST(Weights, ManyKeysProtocol4AndPython2EraFiles) {
  check_fixture("many_keys_zip.pth");       // 1,100 entries: two SETITEMS batches, LONG_BINGET
  check_fixture("proto4_zip.pth");          // FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL
  check_fixture("py2style_legacy.pth");     // BINSTRING, list-of-pairs OrderedDict, views, INT, 0.1.10 BUILD
  check_fixture("tiny_pre04_legacy.pth");   // _rebuild_tensor, no num_batches_tracked, no BUILD
}

TEST(Weights, TinyResNetInEveryContainerGivesTorchvisionLogits) {
  for (const char* name : {"tiny_zip.pth", "tiny_legacy.pth", "tiny.safetensors", "tiny_repacked_zip.pth"})
    check_fixture(name);
  const test::Archive oracle(fixture("tiny.gcamtest"));
  models::ResNetConfig config;
  config.name = "tiny_resnet";
  config.blocks = {1, 1, 1, 1};
  config.num_classes = 10;
  for (const char* name : {"tiny_zip.pth", "tiny_legacy.pth", "tiny.safetensors", "tiny_repacked_zip.pth",
                           "tiny_wrapped_zip.pth", "tiny_dataparallel_zip.pth", "tiny_pre04_legacy.pth"}) {
    SCOPED_TRACE(name);
    auto model = models::make_resnet(config);
    models::load_weights(*model, *weights::Checkpoint::open(fixture(name)));
    EXPECT_TRUE(test::near_relative(model->forward(oracle.get("input")), oracle.get("logits"), 1e-4));
  }
}

TEST(Weights, StrictLoadingNamesWhatDoesNotFit) {
  auto checkpoint = weights::Checkpoint::open(fixture("tiny_zip.pth"));
  auto resnet18 = models::make_model("resnet18", 10);  // two blocks per stage: layerS.1.* are missing
  try {
    models::load_weights(*resnet18, *checkpoint);
    ADD_FAILURE() << "a checkpoint with missing tensors loaded strictly";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("tiny_zip.pth"), std::string::npos) << message;
    EXPECT_NE(message.find("missing layer1.1.conv1.weight"), std::string::npos) << message;
  }
  const models::LoadReport report = models::load_weights(*resnet18, *checkpoint, /*non_strict=*/true);
  EXPECT_EQ(report.missing.size(), 40u);  // 4 stages × (2 convs + 2 × 4 batch-norm tensors)
  EXPECT_TRUE(report.unexpected.empty());
  auto wrong_classes = models::make_model("resnet18", 1000);
  try {
    models::load_weights(*wrong_classes, *checkpoint, true);  // non-strict never forgives a shape
    ADD_FAILURE() << "a mis-shaped tensor loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("fc.weight"), std::string::npos) << e.what();
  }
}

// Every negative case: InputError, naming the file, with the expected reason.
TEST(Weights, BadFilesAreRefusedWithOneClearLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad_truncated_zip.pth", "end-of-central-directory"},
      {"bad_truncated_legacy.pth", "truncated"},
      {"bad_magic_legacy.pth", "not a PyTorch or safetensors weight file"},
      {"bad_empty.pth", "empty file"},
      {"bad_evil_global_zip.pth", "refusing to call posix.system"},
      {"bad_deflated_zip.pth", "compressed"},
      {"bad_short_member_zip.pth", "bytes, expected"},
      {"bad_big_endian_zip.pth", "big-endian"},
      {"bad_trailing_legacy.pth", "unexpected bytes after the last storage"},
      {"bad_st_header_too_large.safetensors", "100 MB"},
      {"bad_st_header_past_end.safetensors", "past the end"},
      {"bad_st_not_object.safetensors", "not a PyTorch or safetensors weight file"},
      {"bad_st_size_mismatch.safetensors", "bytes for shape"},
      {"bad_st_trailing.safetensors", "unexpected bytes after the last tensor"},
      {"bad_st_unknown_dtype.safetensors", "unsupported dtype Q7"},
      {"bad_st_overflow.safetensors", "impossibly large"},
      {"bad_st_hole.safetensors", "hole"},
      {"bad_not_a_checkpoint.pth", "not a PyTorch or safetensors weight file"},
      {"no_such_file.pth", "cannot open"},
  };
  for (const auto& [name, reason] : cases) {
    SCOPED_TRACE(name);
    try {
      auto checkpoint = weights::Checkpoint::open(fixture(name));
      ADD_FAILURE() << name << " was accepted";
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(name), std::string::npos) << message;
      EXPECT_NE(message.find(reason), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << "more than one line: " << message;
    }
  }
}

// Bad input never crashes (support/mutations.h): PyTorch's small checkpoints, cut short at every length
// and changed byte by byte (the zip's headers and directory, the pickle's opcodes, lengths and
// persistent ids, the legacy format's magic numbers and storage table), are opened and every tensor read,
// or refused with one InputError line naming the file. test_bad_inputs.cpp does the same for the
// shipped safetensors file and for pictures.
TEST(Weights, PickledCheckpointsCutOrChangedAreReadOrRefused) {
  const auto open_and_read_every_tensor = [](const std::string& path) {
    const auto checkpoint = weights::Checkpoint::open(path);
    for (const weights::StoredTensor& t : checkpoint->tensors()) {
      Tensor values = Tensor::empty(Shape{t.numel()});
      checkpoint->read_into(t, values);
    }
  };
  for (const char* name : {"mixed_zip.pth", "proto4_zip.pth", "mixed_legacy.pth", "py2style_legacy.pth"}) {
    SCOPED_TRACE(name);
    const std::vector<uint8_t> bytes = test::file_bytes(fixture(name));
    open_and_read_every_tensor(fixture(name));  // the original reads
    const test::MutantCounts counts =
        test::expect_read_or_refused(name, bytes, {bytes.size()}, open_and_read_every_tensor);
    EXPECT_GT(counts.refused, 0);
    EXPECT_GT(counts.read, 0);
  }
}

TEST(Weights, SafetensorsRoundTripAndSha256) {
  auto original = weights::Checkpoint::open(fixture("tiny_zip.pth"));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& t : original->tensors()) {
    if (t.dtype != weights::DType::Float32) continue;
    tensors.emplace_back(t.name, original->read_float(t, Shape::of(t.shape.data(), static_cast<int>(t.shape.size()))));
  }
  const std::string path = fixture("roundtrip.safetensors");
  weights::write_safetensors(path, tensors, {{"architecture", "tiny_resnet"}});
  auto copy = weights::Checkpoint::open(path);
  EXPECT_EQ(copy->metadata()[0], (std::pair<std::string, std::string>{"architecture", "tiny_resnet"}));
  for (const auto& [name, tensor] : tensors) {
    const weights::StoredTensor* t = copy->find(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_TRUE(test::near_relative(copy->read_float(*t, tensor.shape()), tensor, 0.0, 1e-30)) << name;
  }
  // FIPS 180-2 test vector: SHA-256("abc"), and the empty message.
  const std::string abc = fixture("abc.txt");
  std::ofstream(abc) << "abc";
  EXPECT_EQ(weights::sha256_file(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::ofstream(abc, std::ios::trunc).close();
  EXPECT_EQ(weights::sha256_file(abc), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// The captioning tutorial's vocab.pkl: a pickled Vocabulary object (a class in __main__), read as data with
// both the default protocol and protocol 2; a pickle that would run os.system, and one with a word twice,
// refused in one line.
TEST(Weights, CaptioningVocabularyIsReadAsData) {
  std::vector<std::string> expected;
  {
    std::ifstream in(fixture("vocab_words.txt"));
    for (std::string line; std::getline(in, line);) expected.push_back(line);
  }
  ASSERT_GT(expected.size(), 4u);
  for (const char* name : {"vocab.pkl", "vocab_p2.pkl"}) {
    SCOPED_TRACE(name);
    const Vocabulary v = read_vocabulary(fixture(name));
    EXPECT_EQ(v.words, expected);
    EXPECT_EQ(v.index_of("sneaker"), 6);
    EXPECT_EQ(v.index_of("unicorn"), -1);
  }
  for (const auto& [name, why] : {std::pair{"bad_evil_vocab.pkl", "refusing to call posix.system"},
                                  std::pair{"bad_twice_vocab.pkl", "the word 'a' appears twice"}}) {
    try {
      read_vocabulary(fixture(name));
      ADD_FAILURE() << name << " was read";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }
  // A weight file's pickle still refuses objects: NEWOBJ is not allowed there.
  EXPECT_THROW(weights::Checkpoint::open(fixture("vocab.pkl")), InputError);
}

}  // namespace
}  // namespace gcam
