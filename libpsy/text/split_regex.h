// The regular expressions tokenizer.json pre-tokenizers and normalizers use (the split patterns of
// GPT-2, Llama-3, Qwen2, GLM-4 / cl100k and the like), matched with the semantics of Hugging Face
// tokenizers' engine (Oniguruma, leftmost-first backtracking, non-overlapping find-all).
//
// Supported: literals and escapes (\r \n \t \f \v \e \xHH \x{H..} \uHHHH, escaped punctuation),
// '.', classes [...] / [^...] with ranges, \p{..} / \P{..} general categories, \s \S \d \D \w \W;
// alternation; groups (...), (?:...), (?i:...), a leading (?i); lookahead (?=...) / (?!...);
// quantifiers ? * + {m} {m,} {m,n} (greedy or lazy) on single characters and classes, and ? on
// groups. Anything else (backreferences, lookbehind, anchors, quantified groups, possessive
// quantifiers) is refused by the constructor with psy::Error naming the construct.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace psy {

class SplitRegex {
 public:
  // Throws psy::Error("<what is wrong> at offset N of the pattern") on an unsupported pattern.
  explicit SplitRegex(const std::string& pattern);

  // Byte ranges [begin, end) of the non-empty, non-overlapping matches in `text` (valid UTF-8),
  // leftmost first. Throws psy::Error when a match needs more than a bounded amount of
  // backtracking (pathological patterns; none of the real ones come near it).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

  // Compiled form (public so the compiler in the .cpp can build it).
  struct ClassItem {
    enum Kind : uint8_t { Range, Category, Space, Word } kind = Range;
    bool negated = false;
    char32_t lo = 0, hi = 0;
    uint32_t mask = 0;
  };
  struct CharClass {
    bool negated = false;
    bool icase = false;
    std::vector<ClassItem> items;
  };
  enum class Op : uint8_t { Char, Class, Any, Split, Jmp, Repeat, Look, LookEnd, Match };
  struct Inst {
    Op op = Op::Match;
    Op unit = Op::Char;  // for Repeat: what one repetition matches (Char, Class or Any)
    bool icase = false;
    bool greedy = true;
    bool negated = false;  // for Look
    char32_t c = 0;
    int cls = -1;
    int x = 0, y = 0;      // Split: first, second choice; Jmp / Look: target
    int min = 0, max = 0;  // Repeat; max < 0 = unbounded
  };

 private:
  std::string pattern_;
  std::vector<Inst> code_;
  std::vector<CharClass> classes_;

  friend class SplitRegexMatcher;
};

}  // namespace psy
