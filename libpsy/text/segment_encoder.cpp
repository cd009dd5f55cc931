#include "libpsy/text/segment_encoder.h"

namespace psy {

// Splits at every space that follows a non-space and encodes word by word (exact when
// tok_.splits_at_words(); see tokenizer.h).
void SegmentEncoder::encode_words(const std::string& text, std::vector<int32_t>& out) {
  size_t start = 0;
  std::string word;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i < text.size() && !(text[i] == ' ' && text[i - 1] != ' ')) continue;
    word.assign(text, start, i - start);
    auto it = words_.find(word);
    if (it == words_.end()) it = words_.emplace(word, tok_.encode(word, false)).first;
    out.insert(out.end(), it->second.begin(), it->second.end());
    start = i;
  }
}

const std::vector<int32_t>& SegmentEncoder::encode_text(const std::string& text, bool chunk_start) {
  auto& cache = cache_[chunk_start ? 1 : 0];
  auto it = cache.find(text);
  if (it != cache.end()) return it->second;
  std::vector<int32_t> ids;
  if (tok_.splits_at_words()) {
    encode_words(chunk_start && tok_.adds_dummy_prefix() ? " " + text : text, ids);
  } else {
    ids = tok_.encode(text, chunk_start);
  }
  return cache.emplace(text, std::move(ids)).first->second;
}

void SegmentEncoder::encode(const std::vector<ChatSegment>& segments, std::vector<int32_t>& ids,
                            std::vector<TokenRange>& ranges) {
  ranges.clear();
  ranges.reserve(segments.size());
  bool chunk_start = true;
  for (const auto& s : segments) {
    TokenRange r;
    r.begin = static_cast<uint32_t>(ids.size());
    if (s.token_id >= 0) {
      ids.push_back(s.token_id);
      chunk_start = true;
    } else if (!s.text.empty()) {
      const auto& t = encode_text(s.text, chunk_start);
      ids.insert(ids.end(), t.begin(), t.end());
      chunk_start = false;
    }
    r.end = static_cast<uint32_t>(ids.size());
    ranges.push_back(r);
  }
}

size_t SegmentEncoder::count(const std::vector<ChatSegment>& segments) {
  size_t n = 0;
  bool chunk_start = true;
  for (const auto& s : segments) {
    if (s.token_id >= 0) {
      ++n;
      chunk_start = true;
    } else if (!s.text.empty()) {
      n += encode_text(s.text, chunk_start).size();
      chunk_start = false;
    }
  }
  return n;
}

}  // namespace psy
