// vocabulary.cpp — a pickled Vocabulary (or dict) as a word list (see gcam/vocabulary.h).
#include "gcam/vocabulary.h"

#include "file_map.h"
#include "gcam/error.h"
#include "pickle.h"

namespace gcam {

namespace {

constexpr int64_t kMaxWords = int64_t{1} << 20;

const weights::Value* attribute(const weights::Value& object, const std::string& name) {
  for (const auto& [key, value] : object.entries)
    if (key->kind == weights::Value::Kind::String && key->text == name) return value.get();
  return nullptr;
}

}  // namespace

int64_t Vocabulary::index_of(const std::string& word) const {
  const auto it = index.find(word);
  return it == index.end() ? -1 : it->second;
}

Vocabulary read_vocabulary(const std::string& path) {
  const weights::FileMap file(path);
  if (file.size() == 0) file.fail("empty file");
  const weights::ValuePtr top =
      weights::unpickle(file.at(0, file.size(), "vocabulary"), file.size(), 0, path, nullptr, /*objects_as_data=*/true).value;
  if (top->kind != weights::Value::Kind::Object && top->kind != weights::Value::Kind::Dict)
    file.fail(std::string("holds a ") + top->kind_name() + ", not a vocabulary");
  const weights::Value* idx2word = attribute(*top, "idx2word");
  if (!idx2word || idx2word->kind != weights::Value::Kind::Dict) file.fail("no idx2word dictionary: not a vocabulary");
  const int64_t count = static_cast<int64_t>(idx2word->entries.size());
  if (count == 0 || count > kMaxWords) file.fail("a vocabulary of " + std::to_string(count) + " words (1 to 2^20)");
  Vocabulary v;
  v.words.resize(static_cast<size_t>(count));
  std::vector<bool> seen(static_cast<size_t>(count), false);
  for (const auto& [key, value] : idx2word->entries) {
    if (key->kind != weights::Value::Kind::Int || key->integer < 0 || key->integer >= count || seen[key->integer])
      file.fail("idx2word's indices are not 0 to " + std::to_string(count - 1) + ", each once");
    if (value->kind != weights::Value::Kind::String) file.fail("idx2word holds a " + std::string(value->kind_name()) + ", not a word");
    if (!v.index.emplace(value->text, key->integer).second) file.fail("the word '" + value->text + "' appears twice");
    seen[key->integer] = true;
    v.words[key->integer] = value->text;
  }
  if (const weights::Value* word2idx = attribute(*top, "word2idx")) {
    bool agrees = word2idx->kind == weights::Value::Kind::Dict && static_cast<int64_t>(word2idx->entries.size()) == count;
    for (size_t i = 0; agrees && i < word2idx->entries.size(); ++i) {
      const auto& [word, index] = word2idx->entries[i];
      agrees = word->kind == weights::Value::Kind::String && index->kind == weights::Value::Kind::Int &&
               v.index_of(word->text) == index->integer;
    }
    if (!agrees) file.fail("word2idx and idx2word disagree");
  }
  return v;
}

}  // namespace gcam
