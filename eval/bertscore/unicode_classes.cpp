#include "eval/bertscore/unicode_classes.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"

namespace psy::eval::unicode {

namespace {

uint32_t category_mask(char32_t c) { return U_GET_GC_MASK(static_cast<UChar32>(c)); }

std::vector<UChar> to_utf16(const std::u32string& text) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t needed = 0;
  u_strFromUTF32(nullptr, 0, &needed, reinterpret_cast<const UChar32*>(text.data()),
                 static_cast<int32_t>(text.size()), &status);
  std::vector<UChar> out(static_cast<size_t>(needed) + 1);
  status = U_ZERO_ERROR;
  u_strFromUTF32WithSub(out.data(), static_cast<int32_t>(out.size()), &needed,
                        reinterpret_cast<const UChar32*>(text.data()), static_cast<int32_t>(text.size()),
                        0xFFFD, nullptr, &status);
  if (U_FAILURE(status)) throw Error(std::string("UTF-32 to UTF-16 conversion failed: ") + u_errorName(status), kExitFailure);
  out.resize(static_cast<size_t>(needed));
  return out;
}

std::u32string from_utf16(const std::vector<UChar>& text) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t needed = 0;
  u_strToUTF32(nullptr, 0, &needed, text.data(), static_cast<int32_t>(text.size()), &status);
  std::u32string out(static_cast<size_t>(needed) + 1, U'\0');
  status = U_ZERO_ERROR;
  u_strToUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), &needed, text.data(),
               static_cast<int32_t>(text.size()), &status);
  if (U_FAILURE(status)) throw Error(std::string("UTF-16 to UTF-32 conversion failed: ") + u_errorName(status), kExitFailure);
  out.resize(static_cast<size_t>(needed));
  return out;
}

std::u32string normalize(const std::u32string& text, const UNormalizer2* norm) {
  if (text.empty()) return text;
  const auto src = to_utf16(text);
  std::vector<UChar> dst(src.size() * 4 + 16);
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = unorm2_normalize(norm, src.data(), static_cast<int32_t>(src.size()), dst.data(),
                               static_cast<int32_t>(dst.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    dst.resize(static_cast<size_t>(n));
    status = U_ZERO_ERROR;
    n = unorm2_normalize(norm, src.data(), static_cast<int32_t>(src.size()), dst.data(),
                         static_cast<int32_t>(dst.size()), &status);
  }
  if (U_FAILURE(status)) throw Error(std::string("Unicode normalisation failed: ") + u_errorName(status), kExitFailure);
  dst.resize(static_cast<size_t>(n));
  return from_utf16(dst);
}

const UNormalizer2* normalizer(bool composed) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* n = composed ? unorm2_getNFCInstance(&status) : unorm2_getNFDInstance(&status);
  if (U_FAILURE(status)) throw Error(std::string("ICU normaliser unavailable: ") + u_errorName(status), kExitFailure);
  return n;
}

}  // namespace

bool is_letter(char32_t c) { return (category_mask(c) & U_GC_L_MASK) != 0; }
bool is_number(char32_t c) { return (category_mask(c) & U_GC_N_MASK) != 0; }

bool is_regex_space(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE) != 0; }

bool is_bert_whitespace(char32_t c) {
  if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r') return true;
  return (category_mask(c) & U_GC_ZS_MASK) != 0;
}

bool is_bert_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  // Python reports unassigned code points as Cn; ICU's U_GC_C_MASK includes Cn as well.
  return (category_mask(c) & U_GC_C_MASK) != 0;
}

bool is_bert_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return (category_mask(c) & U_GC_P_MASK) != 0;
}

bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::u32string nfc(const std::u32string& text) {
  bool ascii = true;
  for (char32_t c : text) ascii = ascii && c < 0x80;
  if (ascii) return text;
  return normalize(text, normalizer(true));
}

std::u32string to_lower(const std::u32string& text) {
  if (text.empty()) return text;
  const auto src = to_utf16(text);
  std::vector<UChar> dst(src.size() * 3 + 16);
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = u_strToLower(dst.data(), static_cast<int32_t>(dst.size()), src.data(), static_cast<int32_t>(src.size()),
                           "", &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    dst.resize(static_cast<size_t>(n));
    status = U_ZERO_ERROR;
    n = u_strToLower(dst.data(), static_cast<int32_t>(dst.size()), src.data(), static_cast<int32_t>(src.size()), "",
                     &status);
  }
  if (U_FAILURE(status)) throw Error(std::string("lower-casing failed: ") + u_errorName(status), kExitFailure);
  dst.resize(static_cast<size_t>(n));
  return from_utf16(dst);
}

std::u32string strip_accents(const std::u32string& text) {
  const std::u32string decomposed = normalize(text, normalizer(false));
  std::u32string out;
  out.reserve(decomposed.size());
  for (char32_t c : decomposed) {
    if ((category_mask(c) & U_GC_MN_MASK) == 0) out.push_back(c);
  }
  return out;
}

std::string python_strip(const std::string& text) {
  const std::vector<char32_t> cps = decode_utf8(text);
  size_t begin = 0, end = cps.size();
  while (begin < end && is_python_space(cps[begin])) ++begin;
  while (end > begin && is_python_space(cps[end - 1])) --end;
  if (begin == 0 && end == cps.size()) return text;
  return encode_utf8(std::vector<char32_t>(cps.begin() + static_cast<long>(begin), cps.begin() + static_cast<long>(end)));
}

}  // namespace psy::eval::unicode
