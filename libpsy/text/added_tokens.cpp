#include "libpsy/text/added_tokens.h"

#include <algorithm>

#include "libpsy/core/utf8.h"
#include "libpsy/text/unicode_props.h"

namespace psy {

namespace {

// Start of the code point that ends just before byte `i`.
size_t previous_cp_start(std::string_view s, size_t i) {
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  return j;
}

char32_t cp_at(std::string_view s, size_t i, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  const auto cps = decode_utf8(s.substr(i, len));
  return cps.size() == 1 ? cps[0] : char32_t{0xFFFD};
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns)
    : by_first_byte_(256) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (patterns[i].empty()) continue;
    entries_.push_back(Entry{patterns[i], tokens[i].id, tokens[i].special, tokens[i].lstrip, tokens[i].rstrip});
  }
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.pattern.size() > b.pattern.size(); });
  for (size_t i = 0; i < entries_.size(); ++i)
    by_first_byte_[static_cast<unsigned char>(entries_[i].pattern[0])].push_back(static_cast<uint32_t>(i));
}

std::vector<TextSpan> AddedTokenMatcher::split(std::string_view text, bool include_special) const {
  std::vector<TextSpan> out;
  if (entries_.empty()) {
    if (!text.empty()) out.push_back(TextSpan{0, text.size(), -1});
    return out;
  }
  size_t start_offset = 0;  // end of the last token taken
  size_t i = 0;
  while (i < text.size()) {
    const auto& candidates = by_first_byte_[static_cast<unsigned char>(text[i])];
    const Entry* hit = nullptr;
    for (uint32_t k : candidates) {
      const Entry& e = entries_[k];
      if (text.compare(i, e.pattern.size(), e.pattern) == 0) {
        hit = &e;
        break;
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + hit->pattern.size();
    i = stop;
    if (hit->special && !include_special) continue;  // left as text, as with encode_special_tokens
    if (hit->lstrip) {
      size_t s = start;
      while (s > 0) {
        const size_t p = previous_cp_start(text, s);
        size_t len;
        if (!unicode::is_white_space(cp_at(text, p, len))) break;
        s = p;
      }
      start = std::max(s, start_offset);
    }
    if (hit->rstrip) {
      while (stop < text.size()) {
        size_t len;
        if (!unicode::is_white_space(cp_at(text, stop, len))) break;
        stop += len;
      }
      i = stop;
    }
    if (start_offset < start) out.push_back(TextSpan{start_offset, start, -1});
    out.push_back(TextSpan{start, stop, hit->id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back(TextSpan{start_offset, text.size(), -1});
  return out;
}

}  // namespace psy
