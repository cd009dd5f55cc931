// The "added_tokens" of a tokenizer.json: tokens matched in the text before the model runs
// (leftmost, longest first, as tokenizers' Aho-Corasick does), with their `special`, `normalized`,
// `lstrip` and `rstrip` flags. `normalized` tokens are matched in normalized text, the others in
// the raw text.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace psy {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
};

// A span of text (id = -1) or an added token (its id) in [begin, end) bytes.
struct TextSpan {
  size_t begin = 0, end = 0;
  int32_t id = -1;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `patterns`: the text to look for with each token (the content, or its normalized form).
  AddedTokenMatcher(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns);

  // Splits `text` into text spans and token matches. include_special = false: special tokens are
  // not matched (their text stays text).
  std::vector<TextSpan> split(std::string_view text, bool include_special) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string pattern;
    int32_t id;
    bool special, lstrip, rstrip;
  };
  std::vector<Entry> entries_;                        // longest pattern first
  std::vector<std::vector<uint32_t>> by_first_byte_;  // entry indices, longest first
};

}  // namespace psy
