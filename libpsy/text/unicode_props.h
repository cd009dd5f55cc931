// Unicode properties and transforms for tokenizer.json pipelines (ICU underneath): the character
// classes of Hugging Face tokenizers' regex engine (Oniguruma: \p{L}, \p{N}, \s, \d, \w, case
// folding), Rust's char::is_whitespace, and the NFC/NFD/NFKC/NFKD and lower-case normalizers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace psy::unicode {

// The general-category bit of a code point (1u << U_GC_..., ICU's U_GET_GC_MASK), as of Unicode
// 16.0 (the tables of tokenizers' regex engine): ICU 72's 15.0 plus the 16.0 additions.
uint32_t category_mask(char32_t cp);
// Category groups as masks for category_mask().
uint32_t letter_mask();  // L: Lu Ll Lt Lm Lo
uint32_t number_mask();  // N: Nd Nl No
uint32_t mark_mask();    // M: Mn Mc Me
uint32_t punct_mask();   // P
uint32_t symbol_mask();  // S
uint32_t separator_mask();  // Z
uint32_t other_mask();   // C
uint32_t decimal_mask(); // Nd
uint32_t word_mask();    // \w: L, M, Nd, Pc
// Mask of a property name as written in \p{...} ("L", "Lu", "N", "Nd", "P", "Han"? no: categories
// and their long names only); 0 when unknown.
uint32_t property_mask(std::string_view name);

// Oniguruma's \s for Unicode strings (the White_Space property) and Rust's char::is_whitespace
// (also White_Space): U+0009-000D, U+0020, U+0085, U+00A0, U+1680, U+2000-200A, U+2028, U+2029,
// U+202F, U+205F, U+3000.
bool is_white_space(char32_t cp);

// Rust's char::is_numeric (categories Nd, Nl, No; tokenizers' Digits pre-tokenizer), whose
// tables are at Unicode 17.0 in tokenizers 0.23: category_mask's N plus 13 newer digits.
bool is_rust_numeric(char32_t cp);

// Simple case folding (what a case-insensitive regex compares).
char32_t fold_case(char32_t cp);

enum class NormalForm { NFC, NFD, NFKC, NFKD };
// Normalizes UTF-8 text (invalid UTF-8 is not expected: callers validate first).
std::string normalize(std::string_view text, NormalForm form);
// Full lower-casing in the root locale (Rust's str::to_lowercase).
std::string to_lower(std::string_view text);

}  // namespace psy::unicode
