#include "eval/text_tokenizers.h"

#include "libpsy/core/utf8.h"

#include "eval/porter_stemmer.h"

namespace psy::eval {

namespace {

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
      len = decode_utf8_at(text, i, cp);
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
    i += decode_utf8_at(text, i, cp);
    if (!is_python_space(cp)) return false;
  }
  return true;
}

Tokens split_chars(std::string_view text) {
  Tokens out;
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    size_t len = decode_utf8_at(text, i, cp);
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
    i += decode_utf8_at(text, i, cp);
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

void tokenize_13a_views(std::string_view text, Sacre13aBuffers& b, std::vector<std::string_view>& out) {
  std::string& line = b.line;
  line.assign(1, ' ');
  line.append(text);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  line.push_back(' ');
  sacrebleu_regexp_views(line, b, out);
}

Tokens tokenize_13a(std::string_view text) {
  Sacre13aBuffers b;
  std::vector<std::string_view> views;
  tokenize_13a_views(text, b, views);
  return Tokens(views.begin(), views.end());
}

Tokens tokenize_sacrebleu_regexp(std::string_view text) {
  Sacre13aBuffers b;
  std::vector<std::string_view> views;
  sacrebleu_regexp_views(text, b, views);
  return Tokens(views.begin(), views.end());
}

void sacrebleu_regexp_views(std::string_view line, Sacre13aBuffers& buf, std::vector<std::string_view>& out) {
  // Each rule is a Python re.sub of a two-character (or one-character) pattern, applied in turn;
  // working on bytes gives the same result as on code points because only ASCII is matched
  // explicitly and only spaces are inserted. A rule whose characters do not occur is skipped.
  // Every pass writes through a raw pointer into a buffer sized for its worst case.
  const size_t n = line.size();
  std::string& a = buf.a;
  a.resize(3 * n + 1);
  char* w = &a[0];
  bool dot_comma = false, dash = false;
  for (char c : line) {
    if (is_13a_punct(c)) {
      w[0] = ' ';
      w[1] = c;
      w[2] = ' ';
      w += 3;
    } else {
      dot_comma = dot_comma || c == '.' || c == ',';
      dash = dash || c == '-';
      *w++ = c;
    }
  }
  a.resize(static_cast<size_t>(w - a.data()));
  const std::string* cur = &a;
  if (dot_comma) {
    // ([^0-9])([\.,]) -> "\1 \2 "
    const std::string& in = *cur;
    std::string& b = buf.b;
    b.resize(2 * in.size() + 1);
    w = &b[0];
    const char* p = in.data();
    const char* end = p + in.size();
    while (p < end) {
      if (p + 1 < end && !is_digit(p[0]) && (p[1] == '.' || p[1] == ',')) {
        w[0] = p[0];
        w[1] = ' ';
        w[2] = p[1];
        w[3] = ' ';
        w += 4;
        p += 2;
      } else {
        *w++ = *p++;
      }
    }
    b.resize(static_cast<size_t>(w - b.data()));
    // ([\.,])([^0-9]) -> " \1 \2"
    std::string& c = buf.c;
    c.resize(2 * b.size() + 1);
    w = &c[0];
    p = b.data();
    end = p + b.size();
    while (p < end) {
      if (p + 1 < end && (p[0] == '.' || p[0] == ',') && !is_digit(p[1])) {
        w[0] = ' ';
        w[1] = p[0];
        w[2] = ' ';
        w[3] = p[1];
        w += 4;
        p += 2;
      } else {
        *w++ = *p++;
      }
    }
    c.resize(static_cast<size_t>(w - c.data()));
    cur = &c;
  }
  if (dash) {
    // ([0-9])(-) -> "\1 \2 "
    const std::string& in = *cur;
    std::string& d = buf.d;
    d.resize(2 * in.size() + 1);
    w = &d[0];
    const char* p = in.data();
    const char* end = p + in.size();
    while (p < end) {
      if (p + 1 < end && is_digit(p[0]) && p[1] == '-') {
        w[0] = p[0];
        w[1] = ' ';
        w[2] = '-';
        w[3] = ' ';
        w += 4;
        p += 2;
      } else {
        *w++ = *p++;
      }
    }
    d.resize(static_cast<size_t>(w - d.data()));
    cur = &d;
  }
  split_whitespace_views(*cur, out);
}

}  // namespace psy::eval
