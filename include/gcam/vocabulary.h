// gcam/vocabulary.h — a captioner's word list, read from the file people have, with no Python.
//
// The PyTorch captioning tutorial (yunjey/pytorch-tutorial, image_captioning) pickles a Vocabulary object
// whose attributes are word2idx {word: index}, idx2word {index: word} and idx (the word count). It is read
// through the restricted unpickler as plain data: the class is named in the file, never looked up or run
// (weights/pickle.h, objects_as_data). A plain pickled dict with the same keys is read the same way.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace gcam {

struct Vocabulary {
  std::vector<std::string> words;                  // word i is the model's output i
  std::unordered_map<std::string, int64_t> index;  // word → i
  int64_t index_of(const std::string& word) const;  // −1 for a word not in the list
};

// InputError "<path>: …" for a file that is not such a vocabulary: idx2word missing, an index not an
// integer from 0 to n − 1 or given twice, a word not a string or given twice, word2idx disagreeing, more than
// 2^20 words.
Vocabulary read_vocabulary(const std::string& path);

}  // namespace gcam
