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
// The stemmer. It works in place on a string of characters: std::string for ASCII words (the
// common case: no decoding, short-string storage) and std::u32string (code points) otherwise,
// so that lengths and positions are those Python sees.

template <class Ch>
bool is_vowel_letter(Ch c) {
  return c == Ch('a') || c == Ch('e') || c == Ch('i') || c == Ch('o') || c == Ch('u');
}

// Porter's consonant: not a, e, i, o, u, and not a 'y' that follows a consonant.
template <class Ch>
bool is_consonant(std::basic_string_view<Ch> w, size_t i) {
  // Walk back over a run of 'y's: y at 0 is a consonant, and each y flips its predecessor.
  bool flip = false;
  while (true) {
    const Ch c = w[i];
    if (is_vowel_letter(c)) return flip;
    if (c != Ch('y') || i == 0) return !flip;
    flip = !flip;
    --i;
  }
}

// m: the number of vowel-consonant transitions in the c/v pattern of the stem.
template <class Ch>
int measure(std::basic_string_view<Ch> w) {
  int m = 0;
  bool prev_vowel = false;
  for (size_t i = 0; i < w.size(); ++i) {
    const bool cons = is_consonant(w, i);
    if (cons && prev_vowel) ++m;
    prev_vowel = !cons;
  }
  return m;
}

template <class Ch>
bool has_vowel(std::basic_string_view<Ch> w) {
  for (size_t i = 0; i < w.size(); ++i)
    if (!is_consonant(w, i)) return true;
  return false;
}

template <class Ch>
bool ends_double_consonant(std::basic_string_view<Ch> w) {
  const size_t n = w.size();
  return n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1);
}

// *o: the stem ends consonant-vowel-consonant and the last is not w, x, y; NLTK also accepts a
// two-letter vowel-consonant stem.
template <class Ch>
bool ends_cvc(std::basic_string_view<Ch> w) {
  const size_t n = w.size();
  if (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) &&
      w[n - 1] != Ch('w') && w[n - 1] != Ch('x') && w[n - 1] != Ch('y'))
    return true;
  return n == 2 && !is_consonant(w, 0) && is_consonant(w, 1);
}

template <class Ch>
bool ends_with(std::basic_string_view<Ch> w, std::string_view suffix) {
  if (w.size() < suffix.size()) return false;
  const size_t start = w.size() - suffix.size();
  for (size_t i = 0; i < suffix.size(); ++i)
    if (w[start + i] != static_cast<Ch>(static_cast<unsigned char>(suffix[i]))) return false;
  return true;
}

template <class Str>
void replace_suffix(Str& w, size_t suffix_len, std::string_view replacement) {
  w.resize(w.size() - suffix_len);
  for (char c : replacement) w.push_back(static_cast<typename Str::value_type>(static_cast<unsigned char>(c)));
}

enum class Cond { none, m_gt0, m_gt1, m_gt0_keep_l, m_gt1_and_s_or_t, ll_m_gt1 };

struct Rule {
  std::string_view suffix;
  std::string_view replacement;
  Cond cond;
};

template <class Ch>
bool holds(Cond cond, std::basic_string_view<Ch> stem, std::basic_string_view<Ch> word) {
  switch (cond) {
    case Cond::none: return true;
    case Cond::m_gt0: return measure(stem) > 0;
    case Cond::m_gt1: return measure(stem) > 1;
    case Cond::m_gt0_keep_l: return measure(word.substr(0, word.size() - 3)) > 0;  // "logi"
    case Cond::m_gt1_and_s_or_t:
      return measure(stem) > 1 && !stem.empty() && (stem.back() == Ch('s') || stem.back() == Ch('t'));
    case Cond::ll_m_gt1: return measure(word.substr(0, word.size() - 1)) > 1;
  }
  return false;
}

// NLTK's rule-list semantics: the first rule whose suffix matches decides; if its condition
// fails the word stays unchanged.
template <class Str>
void apply_rules(Str& word, const Rule* rules, size_t count) {
  using View = std::basic_string_view<typename Str::value_type>;
  const View w(word);
  for (size_t r = 0; r < count; ++r) {
    const Rule& rule = rules[r];
    if (!ends_with(w, rule.suffix)) continue;
    const size_t cut = rule.suffix.size();
    if (holds(rule.cond, w.substr(0, w.size() - cut), w)) replace_suffix(word, cut, rule.replacement);
    return;
  }
}

template <class Str>
void step1a(Str& w) {
  using View = std::basic_string_view<typename Str::value_type>;
  if (w.size() == 4 && ends_with(View(w), "ies")) return replace_suffix(w, 3, "ie");
  static const Rule rules[] = {
      {"sses", "ss", Cond::none},
      {"ies", "i", Cond::none},
      {"ss", "ss", Cond::none},
      {"s", "", Cond::none},
  };
  apply_rules(w, rules, 4);
}

template <class Str>
void step1b(Str& w) {
  using Ch = typename Str::value_type;
  using View = std::basic_string_view<Ch>;
  if (ends_with(View(w), "ied")) return replace_suffix(w, 3, w.size() == 4 ? "ie" : "i");
  if (ends_with(View(w), "eed")) {
    if (measure(View(w).substr(0, w.size() - 3)) > 0) replace_suffix(w, 3, "ee");
    return;
  }
  size_t cut = 0;
  for (std::string_view suffix : {std::string_view("ed"), std::string_view("ing")}) {
    if (ends_with(View(w), suffix) && has_vowel(View(w).substr(0, w.size() - suffix.size()))) {
      cut = suffix.size();
      break;
    }
  }
  if (cut == 0) return;
  w.resize(w.size() - cut);  // the intermediate stem
  // NLTK's follow-up rule list, first match decides: at -> ate, bl -> ble, iz -> ize;
  // "*d" (a double consonant) -> one letter unless it is l, s or z (a word literally ending in
  // "*d" also matches "*d" there, and loses the '*'); (m=1 and *o) -> +e.
  const View v(w);
  if (ends_with(v, "at") || ends_with(v, "bl") || ends_with(v, "iz")) {
    w.push_back(Ch('e'));
  } else if (ends_double_consonant(v)) {
    const Ch c = w.back();
    if (c != Ch('l') && c != Ch('s') && c != Ch('z')) w.pop_back();
  } else if (ends_with(v, "*d")) {
    w.erase(w.size() - 2, 1);
  } else if (measure(v) == 1 && ends_cvc(v)) {
    w.push_back(Ch('e'));
  }
}

template <class Str>
void step1c(Str& w) {
  using View = std::basic_string_view<typename Str::value_type>;
  if (!ends_with(View(w), "y")) return;
  const View stem = View(w).substr(0, w.size() - 1);
  if (stem.size() > 1 && is_consonant(stem, stem.size() - 1)) replace_suffix(w, 1, "i");
}

template <class Str>
void step2(Str& w) {
  using View = std::basic_string_view<typename Str::value_type>;
  if (ends_with(View(w), "alli") && measure(View(w).substr(0, w.size() - 4)) > 0) {
    replace_suffix(w, 4, "al");
    return step2(w);
  }
  static const Rule rules[] = {
      {"ational", "ate", Cond::m_gt0}, {"tional", "tion", Cond::m_gt0},
      {"enci", "ence", Cond::m_gt0},   {"anci", "ance", Cond::m_gt0},
      {"izer", "ize", Cond::m_gt0},    {"bli", "ble", Cond::m_gt0},
      {"alli", "al", Cond::m_gt0},     {"entli", "ent", Cond::m_gt0},
      {"eli", "e", Cond::m_gt0},       {"ousli", "ous", Cond::m_gt0},
      {"ization", "ize", Cond::m_gt0}, {"ation", "ate", Cond::m_gt0},
      {"ator", "ate", Cond::m_gt0},    {"alism", "al", Cond::m_gt0},
      {"iveness", "ive", Cond::m_gt0}, {"fulness", "ful", Cond::m_gt0},
      {"ousness", "ous", Cond::m_gt0}, {"aliti", "al", Cond::m_gt0},
      {"iviti", "ive", Cond::m_gt0},   {"biliti", "ble", Cond::m_gt0},
      {"fulli", "ful", Cond::m_gt0},   {"logi", "log", Cond::m_gt0_keep_l},
  };
  apply_rules(w, rules, sizeof(rules) / sizeof(rules[0]));
}

template <class Str>
void step3(Str& w) {
  static const Rule rules[] = {
      {"icate", "ic", Cond::m_gt0}, {"ative", "", Cond::m_gt0}, {"alize", "al", Cond::m_gt0},
      {"iciti", "ic", Cond::m_gt0}, {"ical", "ic", Cond::m_gt0}, {"ful", "", Cond::m_gt0},
      {"ness", "", Cond::m_gt0},
  };
  apply_rules(w, rules, sizeof(rules) / sizeof(rules[0]));
}

template <class Str>
void step4(Str& w) {
  static const Rule rules[] = {
      {"al", "", Cond::m_gt1},   {"ance", "", Cond::m_gt1}, {"ence", "", Cond::m_gt1},
      {"er", "", Cond::m_gt1},   {"ic", "", Cond::m_gt1},   {"able", "", Cond::m_gt1},
      {"ible", "", Cond::m_gt1}, {"ant", "", Cond::m_gt1},  {"ement", "", Cond::m_gt1},
      {"ment", "", Cond::m_gt1}, {"ent", "", Cond::m_gt1},  {"ion", "", Cond::m_gt1_and_s_or_t},
      {"ou", "", Cond::m_gt1},   {"ism", "", Cond::m_gt1},  {"ate", "", Cond::m_gt1},
      {"iti", "", Cond::m_gt1},  {"ous", "", Cond::m_gt1},  {"ive", "", Cond::m_gt1},
      {"ize", "", Cond::m_gt1},
  };
  apply_rules(w, rules, sizeof(rules) / sizeof(rules[0]));
}

template <class Str>
void step5a(Str& w) {
  using View = std::basic_string_view<typename Str::value_type>;
  if (!ends_with(View(w), "e")) return;
  const View stem = View(w).substr(0, w.size() - 1);
  const int m = measure(stem);
  if (m > 1 || (m == 1 && !ends_cvc(stem))) w.pop_back();
}

template <class Str>
void step5b(Str& w) {
  static const Rule rules[] = {{"ll", "l", Cond::ll_m_gt1}};
  apply_rules(w, rules, 1);
}

template <class Str>
void stem_in_place(Str& w) {
  step1a(w);
  step1b(w);
  step1c(w);
  step2(w);
  step3(w);
  step4(w);
  step5a(w);
  step5b(w);
}

// NLTK's table of irregular forms, looked up on the word as given.
const char* irregular_stem(std::string_view word) {
  static const struct {
    std::string_view form;
    const char* stem;
  } pool[] = {
      {"sky", "sky"},         {"skies", "sky"},         {"dying", "die"},       {"lying", "lie"},
      {"tying", "tie"},       {"news", "news"},         {"innings", "inning"},  {"inning", "inning"},
      {"outings", "outing"},  {"outing", "outing"},     {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},       {"proceed", "proceed"},   {"exceed", "exceed"},   {"succeed", "succeed"},
  };
  if (word.size() < 3 || word.size() > 8) return nullptr;
  for (const auto& entry : pool)
    if (entry.form.size() == word.size() && entry.form == word) return entry.stem;
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
  std::string lowered = to_lowercase ? python_lower(word) : word;
  if (utf8_length(word) <= 2) return lowered;

  bool ascii = true;
  for (char c : lowered) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    stem_in_place(lowered);
    return lowered;
  }
  const std::vector<char32_t> cps = decode_utf8(lowered);
  std::u32string w(cps.begin(), cps.end());
  stem_in_place(w);
  std::string out;
  out.reserve(w.size());
  for (char32_t c : w) append_utf8(out, c);
  return out;
}

}  // namespace psy::eval
