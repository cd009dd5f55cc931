// The tokeniser of a Hugging Face encoder folder, called the way bert_score's `sent_encode`
// calls it: strip the text (Python str.strip), prefix a space for byte-level BPE (RoBERTa),
// truncate to model_max_length - 2 ids, add cls/sep; an empty text gives [cls, sep]. No LibTorch.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eval/bertscore/byte_level_bpe.h"
#include "eval/bertscore/wordpiece.h"

namespace psy::eval {

struct EncodedSentence {
  std::vector<int64_t> ids;  // specials included
  bool truncated = false;    // ids were dropped to fit model_max_length
};

enum class TokenizerKind { ByteLevelBpe, WordPiece };

class SentenceTokenizer {
 public:
  // Loads vocab.json + merges.txt (RoBERTa) or vocab.txt (BERT) from `model_dir`, with
  // tokenizer_config.json / special_tokens_map.json when present. model_max_length comes from
  // tokenizer_config.json; when it is absent (or a placeholder above 1e9) `fallback_max_length` is used.
  static SentenceTokenizer load(const std::string& model_dir, size_t fallback_max_length);

  EncodedSentence sent_encode(std::string_view text) const;
  // The tokens (no specials, no truncation) of the stripped, prefixed text.
  std::vector<std::string> tokenize(std::string_view text) const;

  TokenizerKind kind() const { return kind_; }
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }
  int64_t pad_id() const { return pad_id_; }
  size_t model_max_length() const { return model_max_length_; }

 private:
  SentenceTokenizer() = default;

  TokenizerKind kind_ = TokenizerKind::WordPiece;
  std::shared_ptr<const ByteLevelBpe> bpe_;
  std::shared_ptr<const WordPieceTokenizer> wordpiece_;
  int64_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1;
  size_t model_max_length_ = 512;
};

}  // namespace psy::eval
