// Segment-wise tokenisation of rendered chat segments: control segments contribute their id,
// text segments are encoded on their own (with the dummy prefix when they begin a chunk, see
// tokenizer.h), so every segment owns a whole, contiguous token range. Encodings are cached by
// text, which makes building many samples that share history cheap.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "libpsy/text/chat_template.h"
#include "libpsy/text/tokenizer.h"

namespace psy {

struct TokenRange {
  uint32_t begin = 0, end = 0;  // [begin, end) in the token sequence
};

class SegmentEncoder {
 public:
  explicit SegmentEncoder(const Tokenizer& tokenizer) : tok_(tokenizer) {}

  // Appends the ids of `segments` to `ids`; ranges[i] is segment i's token range.
  void encode(const std::vector<ChatSegment>& segments, std::vector<int32_t>& ids,
              std::vector<TokenRange>& ranges);
  // The (cached) ids of one text.
  const std::vector<int32_t>& encode_text(const std::string& text, bool chunk_start);
  // Token count of `segments` without building the sequence.
  size_t count(const std::vector<ChatSegment>& segments);

  // Forgets cached segment texts (the per-word cache, bounded by the vocabulary of words, stays).
  void clear_cache() { cache_[0].clear(); cache_[1].clear(); }
  const Tokenizer& tokenizer() const { return tok_; }

 private:
  const Tokenizer& tok_;
  void encode_words(const std::string& text, std::vector<int32_t>& out);

  std::unordered_map<std::string, std::vector<int32_t>> cache_[2];  // [chunk_start]
  std::unordered_map<std::string, std::vector<int32_t>> words_;     // word -> ids (no dummy prefix)
};

}  // namespace psy
