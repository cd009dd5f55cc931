// GPT-2's byte-level BPE (vocab.json + merges.txt), as RoBERTa uses it: pre-tokenisation with
// GPT-2's pattern, bytes mapped to printable code points, BPE merges by rank, vocabulary lookup.
// Reproduces transformers' slow GPT2Tokenizer/RobertaTokenizer `_tokenize` + id lookup. No LibTorch.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace psy::eval {

// GPT-2's pre-tokenisation: the pieces that
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// finds in `text` (UTF-8), with the semantics of Python's `regex` module.
std::vector<std::string> gpt2_pre_tokenize(std::string_view text);

// GPT-2's bytes_to_unicode(): the printable code point (as UTF-8) standing for each byte.
const std::vector<std::string>& gpt2_byte_symbols();

class ByteLevelBpe {
 public:
  // Reads vocab.json (token -> id) and merges.txt ("#version" line, then "a b" per line, by rank).
  // `unk_token` must be in the vocabulary.
  ByteLevelBpe(const std::string& vocab_json_path, const std::string& merges_path, const std::string& unk_token);

  // Byte-level BPE tokens of `text` (already prefixed with a space when the caller wants one).
  std::vector<std::string> tokenize(std::string_view text) const;
  // Ids of tokenize(text); a token missing from the vocabulary maps to the unknown id.
  std::vector<int64_t> encode(std::string_view text) const;

  // Id of a vocabulary entry, or -1.
  int64_t token_to_id(const std::string& token) const;
  size_t vocab_size() const { return vocab_.size(); }

 private:
  // BPE of one pre-token (already mapped to byte symbols); results are cached.
  std::vector<std::string> bpe(const std::string& symbols) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<std::string, int> merge_rank_;  // key: left + '\x01' + right
  int64_t unk_id_ = -1;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::string>> cache_;
};

}  // namespace psy::eval
