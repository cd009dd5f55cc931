// Unicode character classes and normalisation the BERTScore tokenisers need, with the exact
// semantics of the Python code they reproduce (Python's str methods, the `regex` module,
// transformers' BERT tokenizer helpers). Backed by ICU; no LibTorch.
#pragma once
#include "libpsy/core/utf8.h"
#include <string>

namespace psy::eval::unicode {

// General category L* (\p{L} in GPT-2's pre-tokenisation pattern).
bool is_letter(char32_t c);
// General category N* (\p{N}).
bool is_number(char32_t c);
// Unicode White_Space property: `\s` of Python's `regex` module (includes U+0085, excludes U+FEFF).
bool is_regex_space(char32_t c);
// Python's str.isspace(): psy::is_python_space (libpsy/core/utf8.h).
using psy::is_python_space;

// transformers' BERT helpers.
bool is_bert_whitespace(char32_t c);   // space, \t, \n, \r or category Zs
bool is_bert_control(char32_t c);      // category C* except \t, \n, \r
bool is_bert_punctuation(char32_t c);  // ASCII 33-47, 58-64, 91-96, 123-126, or category P*
bool is_cjk_ideograph(char32_t c);     // the CJK blocks BERT splits characters out of

// Normalisation and case mapping on code point strings.
std::u32string nfc(const std::u32string& text);
// Python's str.lower() (full lower-case mapping, locale-independent).
std::u32string to_lower(const std::u32string& text);
// BERT's _run_strip_accents: NFD, then drop every code point of category Mn.
std::u32string strip_accents(const std::u32string& text);

// Python's str.strip() on UTF-8 text.
std::string python_strip(const std::string& text);

}  // namespace psy::eval::unicode
