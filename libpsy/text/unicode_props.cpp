#include "libpsy/text/unicode_props.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"

namespace psy::unicode {

namespace {

std::vector<UChar> to_utf16(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t needed = 0;
  u_strFromUTF8WithSub(nullptr, 0, &needed, text.data(), static_cast<int32_t>(text.size()), 0xFFFD, nullptr, &status);
  std::vector<UChar> out(static_cast<size_t>(needed) + 1);
  status = U_ZERO_ERROR;
  u_strFromUTF8WithSub(out.data(), static_cast<int32_t>(out.size()), &needed, text.data(),
                       static_cast<int32_t>(text.size()), 0xFFFD, nullptr, &status);
  if (U_FAILURE(status)) throw Error(std::string("UTF-8 to UTF-16 conversion failed: ") + u_errorName(status), kExitFailure);
  out.resize(static_cast<size_t>(needed));
  return out;
}

std::string to_utf8(const UChar* text, int32_t length) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t needed = 0;
  u_strToUTF8WithSub(nullptr, 0, &needed, text, length, 0xFFFD, nullptr, &status);
  std::string out(static_cast<size_t>(needed) + 1, '\0');
  status = U_ZERO_ERROR;
  u_strToUTF8WithSub(out.data(), static_cast<int32_t>(out.size()), &needed, text, length, 0xFFFD, nullptr, &status);
  if (U_FAILURE(status)) throw Error(std::string("UTF-16 to UTF-8 conversion failed: ") + u_errorName(status), kExitFailure);
  out.resize(static_cast<size_t>(needed));
  return out;
}

// General categories of Unicode 16.0 that differ from ICU 72's Unicode 15.0 (code points new in
// 16.0, one mark that changed from Mn to Mc). Hugging Face tokenizers' regex engine (Oniguruma in
// tokenizers 0.23) has Unicode 16.0 tables, so \p{L} / \p{N} must include these to split text the
// same way. Found by matching every code point with \p{Lu}, \p{Ll}, ..., \p{P}, \p{S} in
// tokenizers 0.23.3 and comparing with ICU; P and S additions are given as Po and So. Sorted.
struct CategoryOverride {
  char32_t lo, hi;
  UCharCategory category;
};
constexpr CategoryOverride kUnicode16[] = {
    {0x0897, 0x0897, U_NON_SPACING_MARK},
    {0x1B4E, 0x1B4F, U_OTHER_PUNCTUATION},
    {0x1B7F, 0x1B7F, U_OTHER_PUNCTUATION},
    {0x1C89, 0x1C89, U_UPPERCASE_LETTER},
    {0x1C8A, 0x1C8A, U_LOWERCASE_LETTER},
    {0x2427, 0x2429, U_OTHER_SYMBOL},
    {0x2FFC, 0x2FFF, U_OTHER_SYMBOL},
    {0x31E4, 0x31E5, U_OTHER_SYMBOL},
    {0x31EF, 0x31EF, U_OTHER_SYMBOL},
    {0xA7CB, 0xA7CC, U_UPPERCASE_LETTER},
    {0xA7CD, 0xA7CD, U_LOWERCASE_LETTER},
    {0xA7DA, 0xA7DA, U_UPPERCASE_LETTER},
    {0xA7DB, 0xA7DB, U_LOWERCASE_LETTER},
    {0xA7DC, 0xA7DC, U_UPPERCASE_LETTER},
    {0x105C0, 0x105F3, U_OTHER_LETTER},
    {0x10D40, 0x10D49, U_DECIMAL_DIGIT_NUMBER},
    {0x10D4A, 0x10D4D, U_OTHER_LETTER},
    {0x10D4E, 0x10D4E, U_MODIFIER_LETTER},
    {0x10D4F, 0x10D4F, U_OTHER_LETTER},
    {0x10D50, 0x10D65, U_UPPERCASE_LETTER},
    {0x10D69, 0x10D6D, U_NON_SPACING_MARK},
    {0x10D6E, 0x10D6E, U_OTHER_PUNCTUATION},
    {0x10D6F, 0x10D6F, U_MODIFIER_LETTER},
    {0x10D70, 0x10D85, U_LOWERCASE_LETTER},
    {0x10D8E, 0x10D8F, U_OTHER_SYMBOL},
    {0x10EC2, 0x10EC4, U_OTHER_LETTER},
    {0x10EFC, 0x10EFC, U_NON_SPACING_MARK},
    {0x11380, 0x11389, U_OTHER_LETTER},
    {0x1138B, 0x1138B, U_OTHER_LETTER},
    {0x1138E, 0x1138E, U_OTHER_LETTER},
    {0x11390, 0x113B5, U_OTHER_LETTER},
    {0x113B7, 0x113B7, U_OTHER_LETTER},
    {0x113B8, 0x113BA, U_COMBINING_SPACING_MARK},
    {0x113BB, 0x113C0, U_NON_SPACING_MARK},
    {0x113C2, 0x113C2, U_COMBINING_SPACING_MARK},
    {0x113C5, 0x113C5, U_COMBINING_SPACING_MARK},
    {0x113C7, 0x113CA, U_COMBINING_SPACING_MARK},
    {0x113CC, 0x113CD, U_COMBINING_SPACING_MARK},
    {0x113CE, 0x113CE, U_NON_SPACING_MARK},
    {0x113CF, 0x113CF, U_COMBINING_SPACING_MARK},
    {0x113D0, 0x113D0, U_NON_SPACING_MARK},
    {0x113D1, 0x113D1, U_OTHER_LETTER},
    {0x113D2, 0x113D2, U_NON_SPACING_MARK},
    {0x113D3, 0x113D3, U_OTHER_LETTER},
    {0x113D4, 0x113D5, U_OTHER_PUNCTUATION},
    {0x113D7, 0x113D8, U_OTHER_PUNCTUATION},
    {0x113E1, 0x113E2, U_NON_SPACING_MARK},
    {0x116D0, 0x116E3, U_DECIMAL_DIGIT_NUMBER},
    {0x1171E, 0x1171E, U_COMBINING_SPACING_MARK},
    {0x11BC0, 0x11BE0, U_OTHER_LETTER},
    {0x11BE1, 0x11BE1, U_OTHER_PUNCTUATION},
    {0x11BF0, 0x11BF9, U_DECIMAL_DIGIT_NUMBER},
    {0x11F5A, 0x11F5A, U_NON_SPACING_MARK},
    {0x13460, 0x143FA, U_OTHER_LETTER},
    {0x16100, 0x1611D, U_OTHER_LETTER},
    {0x1611E, 0x16129, U_NON_SPACING_MARK},
    {0x1612A, 0x1612C, U_COMBINING_SPACING_MARK},
    {0x1612D, 0x1612F, U_NON_SPACING_MARK},
    {0x16130, 0x16139, U_DECIMAL_DIGIT_NUMBER},
    {0x16D40, 0x16D42, U_MODIFIER_LETTER},
    {0x16D43, 0x16D6A, U_OTHER_LETTER},
    {0x16D6B, 0x16D6C, U_MODIFIER_LETTER},
    {0x16D6D, 0x16D6F, U_OTHER_PUNCTUATION},
    {0x16D70, 0x16D79, U_DECIMAL_DIGIT_NUMBER},
    {0x18CFF, 0x18CFF, U_OTHER_LETTER},
    {0x1CC00, 0x1CCEF, U_OTHER_SYMBOL},
    {0x1CCF0, 0x1CCF9, U_DECIMAL_DIGIT_NUMBER},
    {0x1CD00, 0x1CEB3, U_OTHER_SYMBOL},
    {0x1E5D0, 0x1E5ED, U_OTHER_LETTER},
    {0x1E5EE, 0x1E5EF, U_NON_SPACING_MARK},
    {0x1E5F0, 0x1E5F0, U_OTHER_LETTER},
    {0x1E5F1, 0x1E5FA, U_DECIMAL_DIGIT_NUMBER},
    {0x1E5FF, 0x1E5FF, U_OTHER_PUNCTUATION},
    {0x1F8B2, 0x1F8BB, U_OTHER_SYMBOL},
    {0x1F8C0, 0x1F8C1, U_OTHER_SYMBOL},
    {0x1FA89, 0x1FA89, U_OTHER_SYMBOL},
    {0x1FA8F, 0x1FA8F, U_OTHER_SYMBOL},
    {0x1FABE, 0x1FABE, U_OTHER_SYMBOL},
    {0x1FAC6, 0x1FAC6, U_OTHER_SYMBOL},
    {0x1FADC, 0x1FADC, U_OTHER_SYMBOL},
    {0x1FADF, 0x1FADF, U_OTHER_SYMBOL},
    {0x1FAE9, 0x1FAE9, U_OTHER_SYMBOL},
    {0x1FBCB, 0x1FBEF, U_OTHER_SYMBOL},
    {0x2EBF0, 0x2EE5D, U_OTHER_LETTER}
};

// Code points whose compatibility (and, for U+11938, canonical) decomposition is newer than the
// normalization tables of Hugging Face tokenizers (its unicode-normalization-alignments crate):
// tokenizers' NFD / NFKC / NFKD leave them unchanged, ICU 72 decomposes them. Found by normalizing
// every code point with tokenizers 0.23.3 and with ICU. Sorted ranges.
struct Range {
  char32_t lo, hi;
};
constexpr Range kNotDecomposedByTokenizers[] = {
    {0x32FF, 0x32FF},
    {0xA7F2, 0xA7F4},
    {0xAB69, 0xAB69},
    {0x10781, 0x10785},
    {0x10787, 0x107B0},
    {0x107B2, 0x107BA},
    {0x11938, 0x11938},
    {0x1E030, 0x1E06D},
    {0x1F16C, 0x1F16C},
    {0x1FBF0, 0x1FBF9}
};

// Lower-case mappings of Unicode 16/17 that Rust's str::to_lowercase (tokenizers' Lowercase) has
// and ICU 72 does not (all one code point to one code point). Found like the table above.
struct LowerCase {
  char32_t upper, lower;
};
constexpr LowerCase kNewerLowercase[] = {
    {0x1C89, 0x1C8A},
    {0xA7CB, 0x0264},
    {0xA7CC, 0xA7CD},
    {0xA7CE, 0xA7CF},
    {0xA7D2, 0xA7D3},
    {0xA7D4, 0xA7D5},
    {0xA7DA, 0xA7DB},
    {0xA7DC, 0x019B},
    {0x10D50, 0x10D70},
    {0x10D51, 0x10D71},
    {0x10D52, 0x10D72},
    {0x10D53, 0x10D73},
    {0x10D54, 0x10D74},
    {0x10D55, 0x10D75},
    {0x10D56, 0x10D76},
    {0x10D57, 0x10D77},
    {0x10D58, 0x10D78},
    {0x10D59, 0x10D79},
    {0x10D5A, 0x10D7A},
    {0x10D5B, 0x10D7B},
    {0x10D5C, 0x10D7C},
    {0x10D5D, 0x10D7D},
    {0x10D5E, 0x10D7E},
    {0x10D5F, 0x10D7F},
    {0x10D60, 0x10D80},
    {0x10D61, 0x10D81},
    {0x10D62, 0x10D82},
    {0x10D63, 0x10D83},
    {0x10D64, 0x10D84},
    {0x10D65, 0x10D85},
    {0x16EA0, 0x16EBB},
    {0x16EA1, 0x16EBC},
    {0x16EA2, 0x16EBD},
    {0x16EA3, 0x16EBE},
    {0x16EA4, 0x16EBF},
    {0x16EA5, 0x16EC0},
    {0x16EA6, 0x16EC1},
    {0x16EA7, 0x16EC2},
    {0x16EA8, 0x16EC3},
    {0x16EA9, 0x16EC4},
    {0x16EAA, 0x16EC5},
    {0x16EAB, 0x16EC6},
    {0x16EAC, 0x16EC7},
    {0x16EAD, 0x16EC8},
    {0x16EAE, 0x16EC9},
    {0x16EAF, 0x16ECA},
    {0x16EB0, 0x16ECB},
    {0x16EB1, 0x16ECC},
    {0x16EB2, 0x16ECD},
    {0x16EB3, 0x16ECE},
    {0x16EB4, 0x16ECF},
    {0x16EB5, 0x16ED0},
    {0x16EB6, 0x16ED1},
    {0x16EB7, 0x16ED2},
    {0x16EB8, 0x16ED3}
};

bool not_decomposed(char32_t cp) {
  for (const Range& r : kNotDecomposedByTokenizers)
    if (cp >= r.lo && cp <= r.hi) return true;
  return false;
}

std::string normalize_icu(std::string_view text, const UNormalizer2* norm) {
  if (text.empty()) return std::string();
  UErrorCode status = U_ZERO_ERROR;
  const auto src = to_utf16(text);
  std::vector<UChar> dst(src.size() * 3 + 16);
  int32_t n = unorm2_normalize(norm, src.data(), static_cast<int32_t>(src.size()), dst.data(),
                               static_cast<int32_t>(dst.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    dst.resize(static_cast<size_t>(n));
    status = U_ZERO_ERROR;
    n = unorm2_normalize(norm, src.data(), static_cast<int32_t>(src.size()), dst.data(),
                         static_cast<int32_t>(dst.size()), &status);
  }
  if (U_FAILURE(status)) throw Error(std::string("Unicode normalisation failed: ") + u_errorName(status), kExitFailure);
  return to_utf8(dst.data(), n);
}

}  // namespace

uint32_t category_mask(char32_t cp) {
  if (cp >= 0x0897) {
    size_t lo = 0, hi = sizeof kUnicode16 / sizeof kUnicode16[0];
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (kUnicode16[mid].hi < cp) lo = mid + 1;
      else hi = mid;
    }
    if (lo < sizeof kUnicode16 / sizeof kUnicode16[0] && kUnicode16[lo].lo <= cp)
      return U_MASK(kUnicode16[lo].category);
  }
  return U_GET_GC_MASK(static_cast<UChar32>(cp));
}
uint32_t letter_mask() { return U_GC_L_MASK; }
uint32_t number_mask() { return U_GC_N_MASK; }
uint32_t mark_mask() { return U_GC_M_MASK; }
uint32_t punct_mask() { return U_GC_P_MASK; }
uint32_t symbol_mask() { return U_GC_S_MASK; }
uint32_t separator_mask() { return U_GC_Z_MASK; }
uint32_t other_mask() { return U_GC_C_MASK; }
uint32_t decimal_mask() { return U_GC_ND_MASK; }
uint32_t word_mask() { return U_GC_L_MASK | U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK; }

uint32_t property_mask(std::string_view name) {
  struct Entry {
    const char* short_name;
    const char* long_name;
    uint32_t mask;
  };
  static const Entry kEntries[] = {
      {"L", "Letter", U_GC_L_MASK},          {"Lu", "Uppercase_Letter", U_GC_LU_MASK},
      {"Ll", "Lowercase_Letter", U_GC_LL_MASK}, {"Lt", "Titlecase_Letter", U_GC_LT_MASK},
      {"Lm", "Modifier_Letter", U_GC_LM_MASK},  {"Lo", "Other_Letter", U_GC_LO_MASK},
      {"M", "Mark", U_GC_M_MASK},            {"Mn", "Nonspacing_Mark", U_GC_MN_MASK},
      {"Mc", "Spacing_Mark", U_GC_MC_MASK},  {"Me", "Enclosing_Mark", U_GC_ME_MASK},
      {"N", "Number", U_GC_N_MASK},          {"Nd", "Decimal_Number", U_GC_ND_MASK},
      {"Nl", "Letter_Number", U_GC_NL_MASK}, {"No", "Other_Number", U_GC_NO_MASK},
      {"P", "Punctuation", U_GC_P_MASK},     {"S", "Symbol", U_GC_S_MASK},
      {"Z", "Separator", U_GC_Z_MASK},       {"Zs", "Space_Separator", U_GC_ZS_MASK},
      {"C", "Other", U_GC_C_MASK},           {"Cc", "Control", U_GC_CC_MASK},
  };
  for (const auto& e : kEntries)
    if (name == e.short_name || name == e.long_name) return e.mask;
  return 0;
}

bool is_rust_numeric(char32_t cp) {
  // Rust's tables (tokenizers 0.23's build) are at Unicode 17.0, which adds these numbers.
  if ((cp >= 0x11DE0 && cp <= 0x11DE9) || (cp >= 0x16FF4 && cp <= 0x16FF6)) return true;
  return (category_mask(cp) & U_GC_N_MASK) != 0;
}

bool is_white_space(char32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)) != 0; }

char32_t fold_case(char32_t cp) {
  return static_cast<char32_t>(u_foldCase(static_cast<UChar32>(cp), U_FOLD_CASE_DEFAULT));
}

std::string normalize(std::string_view text, NormalForm form) {
  if (text.empty()) return std::string();
  bool ascii = true;
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) return std::string(text);  // ASCII is invariant under every normal form
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* norm = nullptr;
  switch (form) {
    case NormalForm::NFC: norm = unorm2_getNFCInstance(&status); break;
    case NormalForm::NFD: norm = unorm2_getNFDInstance(&status); break;
    case NormalForm::NFKC: norm = unorm2_getNFKCInstance(&status); break;
    case NormalForm::NFKD: norm = unorm2_getNFKDInstance(&status); break;
  }
  if (U_FAILURE(status) || !norm) throw Error(std::string("ICU normalizer unavailable: ") + u_errorName(status), kExitFailure);
  // Code points tokenizers does not decompose stay as they are: normalize the text between them.
  const auto cps = decode_utf8(text);
  bool any = false;
  for (char32_t cp : cps) any = any || not_decomposed(cp);
  if (!any) return normalize_icu(text, norm);
  std::string out, run;
  for (char32_t cp : cps) {
    if (!not_decomposed(cp)) {
      append_utf8(run, cp);
      continue;
    }
    out += normalize_icu(run, norm);
    run.clear();
    append_utf8(out, cp);
  }
  return out + normalize_icu(run, norm);
}

std::string to_lower(std::string_view text) {
  if (text.empty()) return std::string();
  const auto src = to_utf16(text);
  std::vector<UChar> dst(src.size() * 2 + 16);
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = u_strToLower(dst.data(), static_cast<int32_t>(dst.size()), src.data(), static_cast<int32_t>(src.size()), "", &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    dst.resize(static_cast<size_t>(n));
    status = U_ZERO_ERROR;
    n = u_strToLower(dst.data(), static_cast<int32_t>(dst.size()), src.data(), static_cast<int32_t>(src.size()), "", &status);
  }
  if (U_FAILURE(status)) throw Error(std::string("lower-casing failed: ") + u_errorName(status), kExitFailure);
  std::string lowered = to_utf8(dst.data(), n);
  bool ascii = true;
  for (char ch : lowered) ascii = ascii && static_cast<unsigned char>(ch) < 0x80;
  if (ascii) return lowered;
  std::string out;
  for (char32_t cp : decode_utf8(lowered)) {
    for (const LowerCase& l : kNewerLowercase)
      if (l.upper == cp) {
        cp = l.lower;
        break;
      }
    append_utf8(out, cp);
  }
  return out;
}

}  // namespace psy::unicode
