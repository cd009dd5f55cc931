// Tokenisers that reproduce, token for token, what the reference metric implementations see:
// Python's str.split(), character lists, rouge_score's DefaultTokenizer and sacrebleu's 13a
// tokenizer as the lsy641/distinct module uses it. The jieba segmenter is in jieba_segmenter.h.
// All take and return UTF-8; invalid UTF-8 bytes are treated as U+FFFD by the code-point ones.
#pragma once
#include "libpsy/core/utf8.h"
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace psy::eval {

using Tokens = std::vector<std::string>;

// Python's str.isspace(): psy::is_python_space (libpsy/core/utf8.h).
using psy::is_python_space;

// Python `text.split()`: runs of Unicode whitespace separate tokens; no empty tokens.
Tokens split_whitespace(std::string_view text);

// The same tokens as views into `text`, in `out` (cleared first; no string is allocated).
void split_whitespace_views(std::string_view text, std::vector<std::string_view>& out);

// Python `not text.split()`: true when text is empty or only Unicode whitespace.
bool is_blank(std::string_view text);

// Python `list("".join(text.split()))`: every code point except whitespace.
Tokens split_chars(std::string_view text);

// A stemmer for rouge_tokenize: returns the stem of a lower-case ASCII word.
using Stemmer = std::function<std::string(const std::string&)>;

// rouge_score 0.1.2 DefaultTokenizer.tokenize: Unicode lower-case, everything outside [a-z0-9]
// becomes a space, split; with a stemmer, tokens longer than 3 characters are stemmed.
Tokens rouge_tokenize(std::string_view text, const Stemmer* stemmer = nullptr);

// rouge_tokenize(text) without a stemmer, as views into `storage` (both cleared first; the
// views stay valid until storage changes).
void rouge_tokenize_views(std::string_view text, std::string& storage, std::vector<std::string_view>& out);

// rouge_tokenize with NLTK 3.8's Porter stemmer (NLTK_EXTENSIONS mode), as use_stemmer=True does.
Tokens rouge_tokenize_stemmed(std::string_view text);

// sacrebleu's Tokenizer13a as the lsy641/distinct module calls it (returns the token list).
Tokens tokenize_13a(std::string_view text);

// sacrebleu's TokenizerRegexp (the second half of 13a and of zh): spaces around ASCII punctuation
// except ' , - . (and around . and , next to a non-digit, and - after a digit), then split.
Tokens tokenize_sacrebleu_regexp(std::string_view text);

// Scratch strings for the view versions below (one per thread; reused so that tokenising a text
// allocates nothing once they have grown).
struct Sacre13aBuffers {
  std::string line, a, b, c, d;
};
// tokenize_13a / tokenize_sacrebleu_regexp as views into `buffers` (valid until their next use).
void tokenize_13a_views(std::string_view text, Sacre13aBuffers& buffers, std::vector<std::string_view>& out);
void sacrebleu_regexp_views(std::string_view text, Sacre13aBuffers& buffers, std::vector<std::string_view>& out);

}  // namespace psy::eval
