#include "eval/text_tokenizers.h"

#include "libpsy/core/utf8.h"

#include "eval/porter_stemmer.h"

namespace psy::eval {

namespace {

// Decodes one code point at text[i] (invalid bytes: U+FFFD, length 1). Returns the length.
size_t next_cp(std::string_view text, size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 1;
  if (len == 1 || i + len > text.size()) {
    cp = 0xFFFD;
    return 1;
  }
  auto cps = decode_utf8(text.substr(i, len));
  if (cps.size() != 1) {
    cp = 0xFFFD;
    return 1;
  }
  cp = cps[0];
  return len;
}

// A fast check for ASCII-only whitespace splitting.
inline bool ascii_space(unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F); }

// Calls emit(token) for every token of Python's text.split(), a view into text.
template <class Emit>
void each_whitespace_token(std::string_view text, Emit&& emit) {
  size_t start = std::string_view::npos;
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t len = 1;
    bool space;
    if (b < 0x80) {
      space = ascii_space(b);
    } else {
      char32_t cp;
      len = next_cp(text, i, cp);
      space = is_python_space(cp);
    }
    if (space) {
      if (start != std::string_view::npos) emit(text.substr(start, i - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += len;
  }
  if (start != std::string_view::npos) emit(text.substr(start));
}

}  // namespace

Tokens split_whitespace(std::string_view text) {
  Tokens out;
  each_whitespace_token(text, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

void split_whitespace_views(std::string_view text, std::vector<std::string_view>& out) {
  out.clear();
  each_whitespace_token(text, [&](std::string_view t) { out.push_back(t); });
}

bool is_blank(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      if (!ascii_space(b)) return false;
      ++i;
      continue;
    }
    char32_t cp;
    i += next_cp(text, i, cp);
    if (!is_python_space(cp)) return false;
  }
  return true;
}

Tokens split_chars(std::string_view text) {
  Tokens out;
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    size_t len = next_cp(text, i, cp);
    if (!is_python_space(cp)) out.emplace_back(text.substr(i, len));
    i += len;
  }
  return out;
}

namespace {

// rouge_score's DefaultTokenizer before stemming, as a stream: put(c) for every character of a
// lower-case [a-z0-9]+ word, end_word() after every separator (words may be empty) and at the end.
// Lower-case and map every code point outside [a-z0-9] to a separator. Only two non-ASCII code
// points lower-case to ASCII alphanumerics in Python: U+212A KELVIN SIGN -> "k" and
// U+0130 -> "i" + U+0307 (the combining dot then separates).
template <class Put, class EndWord>
void each_rouge_char(std::string_view text, Put&& put, EndWord&& end_word) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      char c = static_cast<char>(b);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        put(c);
      } else {
        end_word();
      }
      ++i;
      continue;
    }
    char32_t cp;
    i += next_cp(text, i, cp);
    if (cp == 0x212A) {
      put('k');
    } else if (cp == 0x130) {
      put('i');
      end_word();
    } else {
      end_word();
    }
  }
  end_word();
}

}  // namespace

Tokens rouge_tokenize(std::string_view text, const Stemmer* stemmer) {
  Tokens out;
  std::string cur;
  each_rouge_char(
      text, [&](char c) { cur.push_back(c); },
      [&] {
        if (cur.empty()) return;
        if (stemmer && cur.size() > 3) {
          std::string s = (*stemmer)(cur);
          bool valid = !s.empty();
          for (char c : s) valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
          if (valid) out.push_back(std::move(s));
        } else {
          out.push_back(cur);
        }
        cur.clear();
      });
  return out;
}

void rouge_tokenize_views(std::string_view text, std::string& storage, std::vector<std::string_view>& out) {
  // The words go one after the other into storage. Every input code point gives at most one
  // character, so storage never outgrows the capacity reserved here and the views stay valid.
  storage.clear();
  storage.reserve(text.size());
  out.clear();
  size_t start = 0;
  each_rouge_char(
      text, [&](char c) { storage.push_back(c); },
      [&] {
        if (storage.size() > start) out.emplace_back(storage.data() + start, storage.size() - start);
        start = storage.size();
      });
}

Tokens rouge_tokenize_stemmed(std::string_view text) {
  const Stemmer stem = [](const std::string& w) { return porter_stem(w); };
  return rouge_tokenize(text, &stem);
}

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  std::string out;
  bool any = false;
  while (true) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    if (!any) out.reserve(s.size());
    any = true;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  if (!any) return;
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII punctuation except ' , - . (and digits, letters).
inline bool is_13a_punct(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x7B && u <= 0x7E) || (u >= 0x5B && u <= 0x60) || (u >= 0x20 && u <= 0x26) ||
         (u >= 0x28 && u <= 0x2B) || (u >= 0x3A && u <= 0x40) || u == 0x2F;
}

}  // namespace

Tokens tokenize_13a(std::string_view text) {
  std::string line(text);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  return tokenize_sacrebleu_regexp(" " + line + " ");
}

Tokens tokenize_sacrebleu_regexp(std::string_view text) {
  const std::string line(text);
  // Each rule is a Python re.sub of a two-character (or one-character) pattern, applied in turn;
  // working on bytes gives the same result as on code points because only ASCII is matched
  // explicitly and only spaces are inserted.
  std::string a;
  a.reserve(line.size() * 2);
  for (char c : line) {
    if (is_13a_punct(c)) {
      a.push_back(' ');
      a.push_back(c);
      a.push_back(' ');
    } else {
      a.push_back(c);
    }
  }
  // ([^0-9])([\.,]) -> "\1 \2 "
  std::string b;
  b.reserve(a.size() * 2);
  for (size_t i = 0; i < a.size();) {
    if (i + 1 < a.size() && !is_digit(a[i]) && (a[i + 1] == '.' || a[i + 1] == ',')) {
      b.push_back(a[i]);
      b.push_back(' ');
      b.push_back(a[i + 1]);
      b.push_back(' ');
      i += 2;
    } else {
      b.push_back(a[i++]);
    }
  }
  // ([\.,])([^0-9]) -> " \1 \2"
  std::string c;
  c.reserve(b.size() * 2);
  for (size_t i = 0; i < b.size();) {
    if (i + 1 < b.size() && (b[i] == '.' || b[i] == ',') && !is_digit(b[i + 1])) {
      c.push_back(' ');
      c.push_back(b[i]);
      c.push_back(' ');
      c.push_back(b[i + 1]);
      i += 2;
    } else {
      c.push_back(b[i++]);
    }
  }
  // ([0-9])(-) -> "\1 \2 "
  std::string d;
  d.reserve(c.size() * 2);
  for (size_t i = 0; i < c.size();) {
    if (i + 1 < c.size() && is_digit(c[i]) && c[i + 1] == '-') {
      d.push_back(c[i]);
      d.push_back(' ');
      d.push_back('-');
      d.push_back(' ');
      i += 2;
    } else {
      d.push_back(c[i++]);
    }
  }
  return split_whitespace(d);
}

}  // namespace psy::eval
