#include "eval/porter_stemmer.h"

#include <clocale>
#include <cwctype>
#include <locale.h>
#include <wctype.h>

#include <vector>

#include "libpsy/core/utf8.h"

namespace psy::eval {

namespace {

// ---------------------------------------------------------------------------------------------
// Lower-casing like Python's str.lower().

// The C.UTF-8 locale object for towlower_l/iswalpha_l; (locale_t)0 when the C library lacks it.
locale_t utf8_ctype() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return loc;
}

char32_t lower_one(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const locale_t loc = utf8_ctype();
  if (loc == static_cast<locale_t>(0)) return cp;
  return static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), loc));
}

bool is_cased(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
  const locale_t loc = utf8_ctype();
  if (loc == static_cast<locale_t>(0)) return false;
  return iswupper_l(static_cast<wint_t>(cp), loc) || iswlower_l(static_cast<wint_t>(cp), loc);
}

// A practical subset of Unicode's Case_Ignorable property (enough for the final-sigma rule).
bool is_case_ignorable(char32_t cp) {
  return cp == 0x27 || cp == 0x2E || cp == 0x3A || cp == 0x5E || cp == 0x60 || cp == 0xA8 ||
         cp == 0xAD || cp == 0xAF || cp == 0xB4 || cp == 0xB7 || cp == 0xB8 || cp == 0x2018 ||
         cp == 0x2019 || cp == 0x2024 || cp == 0x2027 || (cp >= 0x300 && cp <= 0x36F);
}

// Python lower-cases capital sigma to final sigma when a cased letter precedes it and none
// follows (case-ignorable characters are skipped in both directions).
bool is_final_sigma(const std::vector<char32_t>& cps, size_t i) {
  size_t j = i;
  bool before = false;
  while (j > 0) {
    --j;
    if (is_case_ignorable(cps[j])) continue;
    before = is_cased(cps[j]);
    break;
  }
  if (!before) return false;
  for (size_t k = i + 1; k < cps.size(); ++k) {
    if (is_case_ignorable(cps[k])) continue;
    return !is_cased(cps[k]);
  }
  return true;
}

void append_lower(std::string& out, const std::vector<char32_t>& cps, size_t i) {
  const char32_t cp = cps[i];
  if (cp == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE -> i + COMBINING DOT ABOVE
    out += 'i';
    append_utf8(out, 0x307);
  } else if (cp == 0x3A3) {
    append_utf8(out, is_final_sigma(cps, i) ? 0x3C2 : 0x3C3);
  } else {
    append_utf8(out, lower_one(cp));
  }
}

// ---------------------------------------------------------------------------------------------
// The stemmer, on code points.

using Word = std::u32string;
using View = std::u32string_view;

bool is_vowel_letter(char32_t c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// Porter's consonant: not a, e, i, o, u, and not a 'y' that follows a consonant.
bool is_consonant(View w, size_t i) {
  // Walk back over a run of 'y's: y at 0 is a consonant, and each y flips its predecessor.
  bool flip = false;
  while (true) {
    const char32_t c = w[i];
    if (is_vowel_letter(c)) return flip;  // vowel: false (flipped for each y after it)
    if (c != 'y' || i == 0) return !flip;
    flip = !flip;
    --i;
  }
}

// m: the number of vowel-consonant transitions in the c/v pattern of the stem.
int measure(View w) {
  int m = 0;
  bool prev_vowel = false;
  for (size_t i = 0; i < w.size(); ++i) {
    const bool cons = is_consonant(w, i);
    if (cons && prev_vowel) ++m;
    prev_vowel = !cons;
  }
  return m;
}

bool has_vowel(View w) {
  for (size_t i = 0; i < w.size(); ++i)
    if (!is_consonant(w, i)) return true;
  return false;
}

bool ends_double_consonant(View w) {
  const size_t n = w.size();
  return n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1);
}

// *o: the stem ends consonant-vowel-consonant and the last is not w, x, y; NLTK also accepts a
// two-letter vowel-consonant stem.
bool ends_cvc(View w) {
  const size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) &&
      w[n - 1] != 'w' && w[n - 1] != 'x' && w[n - 1] != 'y')
    return true;
  return n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);
}

bool ends_with(View w, View suffix) {
  return w.size() >= suffix.size() && w.substr(w.size() - suffix.size()) == suffix;
}

enum class Cond { none, m_gt0, m_gt1, m_gt0_keep_l, m_gt1_and_s_or_t, not_lsz, m_eq1_and_cvc, ll_m_gt1 };

struct Rule {
  View suffix;
  View replacement;
  Cond cond;
};

bool holds(Cond cond, View stem, View word) {
  switch (cond) {
    case Cond::none: return true;
    case Cond::m_gt0: return measure(stem) > 0;
    case Cond::m_gt1: return measure(stem) > 1;
    case Cond::m_gt0_keep_l: return measure(word.substr(0, word.size() - 3)) > 0;  // "logi"
    case Cond::m_gt1_and_s_or_t:
      return measure(stem) > 1 && !stem.empty() && (stem.back() == 's' || stem.back() == 't');
    case Cond::not_lsz: {
      const char32_t c = word.back();
      return c != 'l' && c != 's' && c != 'z';
    }
    case Cond::m_eq1_and_cvc: return measure(stem) == 1 && ends_cvc(stem);
    case Cond::ll_m_gt1: return measure(word.substr(0, word.size() - 1)) > 1;
  }
  return false;
}

// NLTK's rule-list semantics: the first rule whose suffix matches decides; if its condition
// fails the word is returned unchanged. The pseudo-suffix "*d" matches a double consonant
// (and, as in NLTK, a word literally ending in "*d").
Word apply_rules(const Word& word, const Rule* rules, size_t count) {
  for (size_t r = 0; r < count; ++r) {
    const Rule& rule = rules[r];
    if (rule.suffix == U"*d" && ends_double_consonant(word)) {
      View stem = View(word).substr(0, word.size() - 2);
      if (!holds(rule.cond, stem, word)) return word;
      return Word(stem) + Word(rule.replacement);
    }
    if (ends_with(word, rule.suffix)) {
      View stem = View(word).substr(0, word.size() - rule.suffix.size());
      if (!holds(rule.cond, stem, word)) return word;
      return Word(stem) + Word(rule.replacement);
    }
  }
  return word;
}

Word replace_suffix(const Word& w, size_t suffix_len, View replacement) {
  return w.substr(0, w.size() - suffix_len) + Word(replacement);
}

Word step1a(const Word& w) {
  if (w.size() == 4 && ends_with(w, U"ies")) return replace_suffix(w, 3, U"ie");
  static const Rule rules[] = {
      {U"sses", U"ss", Cond::none},
      {U"ies", U"i", Cond::none},
      {U"ss", U"ss", Cond::none},
      {U"s", U"", Cond::none},
  };
  return apply_rules(w, rules, 4);
}

Word step1b(const Word& w) {
  if (ends_with(w, U"ied")) return replace_suffix(w, 3, w.size() == 4 ? U"ie" : U"i");
  if (ends_with(w, U"eed")) {
    View stem = View(w).substr(0, w.size() - 3);
    return measure(stem) > 0 ? Word(stem) + U"ee" : w;
  }
  Word inter;
  bool found = false;
  for (View suffix : {View(U"ed"), View(U"ing")}) {
    if (ends_with(w, suffix)) {
      View stem = View(w).substr(0, w.size() - suffix.size());
      if (has_vowel(stem)) {
        inter = Word(stem);
        found = true;
        break;
      }
    }
  }
  if (!found) return w;
  const char32_t last[2] = {inter.back(), 0};
  const Rule rules[] = {
      {U"at", U"ate", Cond::none},
      {U"bl", U"ble", Cond::none},
      {U"iz", U"ize", Cond::none},
      {U"*d", View(last, 1), Cond::not_lsz},
      {U"", U"e", Cond::m_eq1_and_cvc},
  };
  return apply_rules(inter, rules, 5);
}

Word step1c(const Word& w) {
  if (ends_with(w, U"y")) {
    View stem = View(w).substr(0, w.size() - 1);
    if (stem.size() > 1 && is_consonant(stem, stem.size() - 1)) return Word(stem) + U"i";
  }
  return w;
}

Word step2(const Word& w) {
  if (ends_with(w, U"alli") && measure(View(w).substr(0, w.size() - 4)) > 0)
    return step2(replace_suffix(w, 4, U"al"));
  static const Rule rules[] = {
      {U"ational", U"ate", Cond::m_gt0}, {U"tional", U"tion", Cond::m_gt0},
      {U"enci", U"ence", Cond::m_gt0},   {U"anci", U"ance", Cond::m_gt0},
      {U"izer", U"ize", Cond::m_gt0},    {U"bli", U"ble", Cond::m_gt0},
      {U"alli", U"al", Cond::m_gt0},     {U"entli", U"ent", Cond::m_gt0},
      {U"eli", U"e", Cond::m_gt0},       {U"ousli", U"ous", Cond::m_gt0},
      {U"ization", U"ize", Cond::m_gt0}, {U"ation", U"ate", Cond::m_gt0},
      {U"ator", U"ate", Cond::m_gt0},    {U"alism", U"al", Cond::m_gt0},
      {U"iveness", U"ive", Cond::m_gt0}, {U"fulness", U"ful", Cond::m_gt0},
      {U"ousness", U"ous", Cond::m_gt0}, {U"aliti", U"al", Cond::m_gt0},
      {U"iviti", U"ive", Cond::m_gt0},   {U"biliti", U"ble", Cond::m_gt0},
      {U"fulli", U"ful", Cond::m_gt0},   {U"logi", U"log", Cond::m_gt0_keep_l},
  };
  return apply_rules(w, rules, sizeof(rules) / sizeof(rules[0]));
}

Word step3(const Word& w) {
  static const Rule rules[] = {
      {U"icate", U"ic", Cond::m_gt0}, {U"ative", U"", Cond::m_gt0}, {U"alize", U"al", Cond::m_gt0},
      {U"iciti", U"ic", Cond::m_gt0}, {U"ical", U"ic", Cond::m_gt0}, {U"ful", U"", Cond::m_gt0},
      {U"ness", U"", Cond::m_gt0},
  };
  return apply_rules(w, rules, sizeof(rules) / sizeof(rules[0]));
}

Word step4(const Word& w) {
  static const Rule rules[] = {
      {U"al", U"", Cond::m_gt1},    {U"ance", U"", Cond::m_gt1}, {U"ence", U"", Cond::m_gt1},
      {U"er", U"", Cond::m_gt1},    {U"ic", U"", Cond::m_gt1},   {U"able", U"", Cond::m_gt1},
      {U"ible", U"", Cond::m_gt1},  {U"ant", U"", Cond::m_gt1},  {U"ement", U"", Cond::m_gt1},
      {U"ment", U"", Cond::m_gt1},  {U"ent", U"", Cond::m_gt1},  {U"ion", U"", Cond::m_gt1_and_s_or_t},
      {U"ou", U"", Cond::m_gt1},    {U"ism", U"", Cond::m_gt1},  {U"ate", U"", Cond::m_gt1},
      {U"iti", U"", Cond::m_gt1},   {U"ous", U"", Cond::m_gt1},  {U"ive", U"", Cond::m_gt1},
      {U"ize", U"", Cond::m_gt1},
  };
  return apply_rules(w, rules, sizeof(rules) / sizeof(rules[0]));
}

Word step5a(const Word& w) {
  if (ends_with(w, U"e")) {
    View stem = View(w).substr(0, w.size() - 1);
    const int m = measure(stem);
    if (m > 1 || (m == 1 && !ends_cvc(stem))) return Word(stem);
  }
  return w;
}

Word step5b(const Word& w) {
  static const Rule rules[] = {{U"ll", U"l", Cond::ll_m_gt1}};
  return apply_rules(w, rules, 1);
}

// NLTK's table of irregular forms, looked up on the word as given.
const char* irregular_stem(const std::string& word) {
  static const struct {
    const char* form;
    const char* stem;
  } pool[] = {
      {"sky", "sky"},         {"skies", "sky"},         {"dying", "die"},       {"lying", "lie"},
      {"tying", "tie"},       {"news", "news"},         {"innings", "inning"},  {"inning", "inning"},
      {"outings", "outing"},  {"outing", "outing"},     {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},       {"proceed", "proceed"},   {"exceed", "exceed"},   {"succeed", "succeed"},
  };
  if (word.size() < 3 || word.size() > 8) return nullptr;
  for (const auto& entry : pool)
    if (word == entry.form) return entry.stem;
  return nullptr;
}

}  // namespace

std::string python_lower(std::string_view text) {
  bool ascii = true;
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  std::string out;
  out.reserve(text.size());
  if (ascii) {
    for (char c : text) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return out;
  }
  const std::vector<char32_t> cps = decode_utf8(text);
  for (size_t i = 0; i < cps.size(); ++i) append_lower(out, cps, i);
  return out;
}

std::string porter_stem(const std::string& word, bool to_lowercase) {
  if (const char* irregular = irregular_stem(word)) return irregular;
  const std::string lowered = to_lowercase ? python_lower(word) : word;
  if (utf8_length(word) <= 2) return lowered;

  const std::vector<char32_t> cps = decode_utf8(lowered);
  Word w(cps.begin(), cps.end());
  w = step1a(w);
  w = step1b(w);
  w = step1c(w);
  w = step2(w);
  w = step3(w);
  w = step4(w);
  w = step5a(w);
  w = step5b(w);

  std::string out;
  out.reserve(w.size());
  for (char32_t c : w) append_utf8(out, c);
  return out;
}

}  // namespace psy::eval
