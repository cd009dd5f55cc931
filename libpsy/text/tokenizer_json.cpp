#include "libpsy/text/tokenizer_json.h"

#include <algorithm>

#include "libpsy/core/error.h"

namespace psy {

TokenizerJson::TokenizerJson(TokenizerJsonParts parts) : parts_(std::move(parts)) {
  std::vector<AddedToken> raw, normalized;
  std::vector<std::string> raw_patterns, normalized_patterns;
  vocab_size_ = parts_.model->max_id() + 1;
  for (size_t i = 0; i < parts_.added.size(); ++i) {
    const AddedToken& t = parts_.added[i];
    added_by_id_[t.id] = i;
    added_by_content_[t.content] = t.id;
    vocab_size_ = std::max(vocab_size_, t.id + 1);
    if (t.normalized) {
      normalized.push_back(t);
      normalized_patterns.push_back(normalize_text(parts_.normalizer, t.content));
    } else {
      raw.push_back(t);
      raw_patterns.push_back(t.content);
    }
  }
  raw_matcher_ = AddedTokenMatcher(raw, raw_patterns);
  normalized_matcher_ = AddedTokenMatcher(normalized, normalized_patterns);
  dummy_prefix_ = parts_.normalizer.prepends() || parts_.pre_tokenizer.adds_prefix();
}

void TokenizerJson::encode_normalized_span(std::string_view text, bool at_origin, bool allow_prefix,
                                           std::vector<int32_t>& out) const {
  std::vector<std::string> pieces;
  pre_tokenize(parts_.pre_tokenizer, text, at_origin, allow_prefix, pieces);
  for (const auto& p : pieces) parts_.model->encode(p, parts_.pre_tokenizer.byte_level, out);
}

void TokenizerJson::encode(std::string_view text, bool match_special, bool chunk_start, std::vector<int32_t>& out) const {
  for (const TextSpan& span : raw_matcher_.split(text, match_special)) {
    if (span.id >= 0) {
      out.push_back(span.id);
      continue;
    }
    const bool at_origin = span.begin == 0;
    const bool allow_prefix = chunk_start || span.begin != 0;
    const std::string normalized =
        normalize_text(parts_.normalizer, text.substr(span.begin, span.end - span.begin), allow_prefix);
    if (normalized_matcher_.empty()) {
      encode_normalized_span(normalized, at_origin, allow_prefix, out);
      continue;
    }
    for (const TextSpan& inner : normalized_matcher_.split(normalized, match_special)) {
      if (inner.id >= 0) {
        out.push_back(inner.id);
        continue;
      }
      encode_normalized_span(std::string_view(normalized).substr(inner.begin, inner.end - inner.begin),
                             at_origin && inner.begin == 0, allow_prefix || inner.begin != 0, out);
    }
  }
}

std::string TokenizerJson::decode_chunk(const std::vector<int32_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* t = id_to_token(id);
    if (!t) throw Error(parts_.name + ": token id " + std::to_string(id) + " is outside the vocabulary (size " +
                        std::to_string(vocab_size_) + ")");
    tokens.push_back(*t);
  }
  return decode_tokens(parts_.decoder, std::move(tokens));
}

const std::string* TokenizerJson::id_to_token(int32_t id) const {
  auto it = added_by_id_.find(id);
  if (it != added_by_id_.end()) return &parts_.added[it->second].content;
  return parts_.model->id_to_token(id);
}

int32_t TokenizerJson::token_to_id(const std::string& token) const {
  auto it = added_by_content_.find(token);
  if (it != added_by_content_.end()) return it->second;
  return parts_.model->token_to_id(token);
}

const AddedToken* TokenizerJson::added_token(int32_t id) const {
  auto it = added_by_id_.find(id);
  return it == added_by_id_.end() ? nullptr : &parts_.added[it->second];
}

}  // namespace psy
