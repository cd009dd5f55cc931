// BERT's tokeniser (vocab.txt): BasicTokenizer (text cleaning, CJK characters split, NFC,
// optional lower-casing and accent stripping, punctuation split) followed by WordPiece
// (longest match first, "##" continuations, [UNK] for unknown or over-long words).
// Reproduces transformers' slow BertTokenizer `_tokenize` + id lookup. No LibTorch.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace psy::eval {

struct BasicTokenizerOptions {
  bool do_lower_case = true;
  bool tokenize_chinese_chars = true;
  // std::nullopt = follow do_lower_case (transformers' strip_accents=None).
  std::optional<bool> strip_accents;
};

// BasicTokenizer.tokenize: the words and punctuation marks of `text` (UTF-8).
std::vector<std::u32string> bert_basic_tokenize(std::string_view text, const BasicTokenizerOptions& options);

class WordPieceTokenizer {
 public:
  // Reads vocab.txt (one token per line; id = 0-based line number).
  WordPieceTokenizer(const std::string& vocab_txt_path, BasicTokenizerOptions options,
                     const std::string& unk_token = "[UNK]", size_t max_chars_per_word = 100);

  std::vector<std::string> tokenize(std::string_view text) const;
  std::vector<int64_t> encode(std::string_view text) const;

  int64_t token_to_id(const std::string& token) const;  // -1 when absent
  int64_t unk_id() const { return unk_id_; }
  size_t vocab_size() const { return vocab_.size(); }

 private:
  void wordpiece(const std::u32string& word, std::vector<std::string>& out) const;

  std::unordered_map<std::string, int64_t> vocab_;
  BasicTokenizerOptions options_;
  std::string unk_token_;
  int64_t unk_id_ = -1;
  size_t max_chars_per_word_;
};

}  // namespace psy::eval
