#include "eval/jieba_segmenter.h"

#include <cmath>
#include <cstdlib>

#include "eval/md5.h"
#include "eval/text_tokenizers.h"
#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"

namespace psy::eval {

namespace {

constexpr double kMinFloat = -3.14e100;  // finalseg.MIN_FLOAT
enum State { B = 0, E = 1, M = 2, S = 3 };  // alphabetical, as Python compares the state letters

// re_han_default: [\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]
inline bool is_han_default(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FD5) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '#' || c == '&' || c == '.' || c == '_' || c == '%' ||
         c == '-';
}
// finalseg.re_han: [\u4E00-\u9FD5]
inline bool is_han(char32_t c) { return c >= 0x4E00 && c <= 0x9FD5; }
inline bool is_alnum_ascii(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
inline bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

std::string to_utf8(const std::u32string& s, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) append_utf8(out, s[i]);
  return out;
}

// Python str.strip(): Unicode whitespace on both ends.
std::u32string strip(const std::u32string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_python_space(s[b])) ++b;
  while (e > b && is_python_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// A reader for the Python literals in finalseg/prob_*.py: P={'B': -0.26, ...} or
// P={'B': {'\u4e00': -3.65, ...}, ...}. Keys are single-quoted strings with \uXXXX escapes.
class PyLiteral {
 public:
  PyLiteral(std::string text, std::string path) : t_(std::move(text)), path_(std::move(path)) {
    const size_t p = t_.find("P=");
    if (p == std::string::npos) fail("no 'P=' assignment");
    i_ = p + 2;
  }
  void expect(char c) {
    skip();
    if (i_ >= t_.size() || t_[i_] != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  bool peek(char c) {
    skip();
    return i_ < t_.size() && t_[i_] == c;
  }
  std::u32string key() {
    skip();
    if (i_ >= t_.size() || (t_[i_] != '\'' && t_[i_] != '"')) fail("expected a quoted key");
    const char q = t_[i_++];
    std::string raw;
    while (i_ < t_.size() && t_[i_] != q) {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) {
        const char e = t_[i_ + 1];
        if (e == 'u' && i_ + 6 <= t_.size()) {
          append_utf8(raw, static_cast<char32_t>(std::strtoul(t_.substr(i_ + 2, 4).c_str(), nullptr, 16)));
          i_ += 6;
          continue;
        }
        if (e == 'U' && i_ + 10 <= t_.size()) {
          append_utf8(raw, static_cast<char32_t>(std::strtoul(t_.substr(i_ + 2, 8).c_str(), nullptr, 16)));
          i_ += 10;
          continue;
        }
        raw.push_back(e);
        i_ += 2;
        continue;
      }
      raw.push_back(t_[i_++]);
    }
    if (i_ >= t_.size()) fail("unterminated string");
    ++i_;
    auto cps = decode_utf8(raw);
    return std::u32string(cps.begin(), cps.end());
  }
  double number() {
    skip();
    const char* begin = t_.c_str() + i_;
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin) fail("expected a number");
    i_ += static_cast<size_t>(end - begin);
    return v;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorLocation{path_, 0, 0, "", "", ""},
                "cannot read jieba's HMM table: " + what + " at byte " + std::to_string(i_));
  }

 private:
  void skip() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) ++i_;
  }
  std::string t_, path_;
  size_t i_ = 0;
};

int state_of(const std::u32string& k, PyLiteral& lit) {
  if (k.size() == 1) {
    switch (k[0]) {
      case 'B': return B;
      case 'E': return E;
      case 'M': return M;
      case 'S': return S;
      default: break;
    }
  }
  lit.fail("expected a state key B, E, M or S");
}

std::string read_required(const std::string& path) {
  if (!path_exists(path))
    throw Error("jieba data not found: " + path +
                    " (install the Debian package python3-jieba, or point PSY_JIEBA_DIR / --jieba-dir at a "
                    "folder holding dict.txt and finalseg/prob_*.py)",
                kExitFailure);
  return read_text_file(path);
}

}  // namespace

std::string JiebaSegmenter::default_dir() {
  const char* env = std::getenv("PSY_JIEBA_DIR");
  if (env && *env) return env;
  return "/usr/lib/python3/dist-packages/jieba";
}

JiebaSegmenter JiebaSegmenter::load(const std::string& dir_in) {
  JiebaSegmenter seg;
  seg.dir_ = dir_in.empty() ? default_dir() : dir_in;
  const std::string dict_path = seg.dir_ + "/dict.txt";
  const std::string dict = read_required(dict_path);
  seg.dict_md5_ = md5_hex(dict);
  seg.version_ = "0.42.1-dict:" + seg.dict_md5_.substr(0, 8);

  // Tokenizer.gen_pfdict: every word with its count, every prefix of a word with 0 unless it is a
  // word itself; total = the sum of the counts of all lines (duplicates included).
  seg.freq_.reserve(600000);
  size_t pos = 0;
  long lineno = 0;
  while (pos < dict.size()) {
    size_t nl = dict.find('\n', pos);
    if (nl == std::string::npos) nl = dict.size();
    ++lineno;
    std::string_view raw(dict.data() + pos, nl - pos);
    pos = nl + 1;
    auto cps = decode_utf8(raw);
    std::u32string line = strip(std::u32string(cps.begin(), cps.end()));
    const size_t sp = line.find(U' ');
    bool ok = sp != std::u32string::npos && sp > 0;
    int64_t count = 0;
    if (ok) {
      size_t sp2 = line.find(U' ', sp + 1);
      if (sp2 == std::u32string::npos) sp2 = line.size();
      std::string num = to_utf8(line, sp + 1, sp2);
      char* end = nullptr;
      count = std::strtoll(num.c_str(), &end, 10);
      ok = !num.empty() && end && *end == '\0';
    }
    if (!ok)
      throw Error(ErrorLocation{dict_path, lineno, 0, "", "", ""},
                  "invalid dictionary entry: " + expected_found("'WORD COUNT [TAG]'", std::string(raw)));
    std::u32string word = line.substr(0, sp);
    seg.freq_[word] = count;
    seg.total_ += count;
    for (size_t n = 1; n < word.size(); ++n) seg.freq_.emplace(word.substr(0, n), 0);
  }
  if (seg.total_ <= 0) throw Error(dict_path + ": jieba dictionary has no counts", kExitFailure);
  seg.log_total_ = std::log(static_cast<double>(seg.total_));

  const std::string hmm = seg.dir_ + "/finalseg/";
  {
    PyLiteral lit(read_required(hmm + "prob_start.py"), hmm + "prob_start.py");
    lit.expect('{');
    while (!lit.peek('}')) {
      const int s = state_of(lit.key(), lit);
      lit.expect(':');
      seg.start_[static_cast<size_t>(s)] = lit.number();
      if (!lit.peek('}')) lit.expect(',');
    }
  }
  for (auto& row : seg.trans_) row.fill(kMinFloat);
  {
    PyLiteral lit(read_required(hmm + "prob_trans.py"), hmm + "prob_trans.py");
    lit.expect('{');
    while (!lit.peek('}')) {
      const int from = state_of(lit.key(), lit);
      lit.expect(':');
      lit.expect('{');
      while (!lit.peek('}')) {
        const int to = state_of(lit.key(), lit);
        lit.expect(':');
        seg.trans_[static_cast<size_t>(from)][static_cast<size_t>(to)] = lit.number();
        if (!lit.peek('}')) lit.expect(',');
      }
      lit.expect('}');
      if (!lit.peek('}')) lit.expect(',');
    }
  }
  {
    PyLiteral lit(read_required(hmm + "prob_emit.py"), hmm + "prob_emit.py");
    lit.expect('{');
    while (!lit.peek('}')) {
      const int s = state_of(lit.key(), lit);
      auto& table = seg.emit_[static_cast<size_t>(s)];
      lit.expect(':');
      lit.expect('{');
      while (!lit.peek('}')) {
        std::u32string ch = lit.key();
        if (ch.size() != 1) lit.fail("expected a one-character key");
        lit.expect(':');
        table[ch[0]] = lit.number();
        if (!lit.peek('}')) lit.expect(',');
      }
      lit.expect('}');
      if (!lit.peek('}')) lit.expect(',');
    }
  }
  return seg;
}

int64_t JiebaSegmenter::freq(const std::u32string& s, size_t begin, size_t end) const {
  auto it = freq_.find(s.substr(begin, end - begin));
  return it == freq_.end() ? -1 : it->second;
}

std::vector<std::string> JiebaSegmenter::cut(std::string_view text) const {
  std::vector<std::string> out;
  auto cps_vec = decode_utf8(text);
  const std::u32string cps(cps_vec.begin(), cps_vec.end());
  const size_t n = cps.size();
  size_t i = 0;
  while (i < n) {
    if (is_han_default(cps[i])) {
      size_t j = i;
      while (j < n && is_han_default(cps[j])) ++j;
      cut_han_block(cps.substr(i, j - i), out);
      i = j;
    } else {
      // re_skip_default.split: "\r\n" or one whitespace character is a token; any other character too.
      if (cps[i] == U'\r' && i + 1 < n && cps[i + 1] == U'\n') {
        out.emplace_back("\r\n");
        i += 2;
      } else {
        std::string one;
        append_utf8(one, cps[i]);
        out.push_back(std::move(one));
        ++i;
      }
    }
  }
  return out;
}

std::vector<std::string> JiebaSegmenter::cut_no_space(std::string_view text) const {
  return without_space(cut(text));
}

std::vector<std::string> JiebaSegmenter::without_space(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (auto& tok : tokens) {
    // A jieba token holds whitespace only when it is a whitespace token itself, but split anyway
    // to follow `" ".join(...).split()` exactly.
    bool plain = true;
    for (unsigned char c : tok) plain = plain && c > 0x20 && c < 0x80;
    if (plain) {
      out.push_back(std::move(tok));
    } else {
      for (auto& piece : split_whitespace(tok)) out.push_back(std::move(piece));
    }
  }
  return out;
}

void JiebaSegmenter::cut_han_block(const std::u32string& s, std::vector<std::string>& out) const {
  const size_t n = s.size();
  // DAG: for each start k, the ends i (inclusive) where s[k..i] is a dictionary word with count > 0.
  std::vector<std::vector<size_t>> dag(n);
  std::u32string frag;
  for (size_t k = 0; k < n; ++k) {
    frag.assign(1, s[k]);
    size_t i = k;
    while (i < n) {
      auto it = freq_.find(frag);
      if (it == freq_.end()) break;
      if (it->second) dag[k].push_back(i);
      ++i;
      if (i < n) frag.push_back(s[i]);
    }
    if (dag[k].empty()) dag[k].push_back(k);
  }
  // route[idx] = max over x of (log(freq or 1) - log(total) + route[x+1].first, x); ties: larger x.
  std::vector<std::pair<double, size_t>> route(n + 1);
  route[n] = {0.0, 0};
  for (size_t idx = n; idx-- > 0;) {
    bool first = true;
    std::pair<double, size_t> best{0.0, 0};
    for (size_t x : dag[idx]) {
      int64_t f = freq(s, idx, x + 1);
      if (f <= 0) f = 1;
      const double p = std::log(static_cast<double>(f)) - log_total_ + route[x + 1].first;
      if (first || p > best.first || (p == best.first && x > best.second)) best = {p, x};
      first = false;
    }
    route[idx] = best;
  }
  auto flush_buf = [&](size_t b, size_t e) {
    if (e - b == 1) {
      out.push_back(to_utf8(s, b, e));
    } else if (freq(s, b, e) <= 0) {
      cut_hmm(s.substr(b, e - b), out);
    } else {
      for (size_t k = b; k < e; ++k) out.push_back(to_utf8(s, k, k + 1));
    }
  };
  size_t x = 0;
  size_t buf_begin = 0, buf_end = 0;  // the pending run of single characters
  while (x < n) {
    const size_t y = route[x].second + 1;
    if (y - x == 1) {
      if (buf_end == buf_begin) buf_begin = buf_end = x;
      buf_end = y;
    } else {
      if (buf_end > buf_begin) flush_buf(buf_begin, buf_end);
      buf_begin = buf_end = 0;
      out.push_back(to_utf8(s, x, y));
    }
    x = y;
  }
  if (buf_end > buf_begin) flush_buf(buf_begin, buf_end);
}

void JiebaSegmenter::cut_hmm(const std::u32string& s, std::vector<std::string>& out) const {
  // finalseg.cut: han runs go through Viterbi; in the rest, [a-zA-Z0-9]+(?:\.\d+)?%? pieces and the
  // text between them are tokens.
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (is_han(s[i])) {
      size_t j = i;
      while (j < n && is_han(s[j])) ++j;
      viterbi_cut(s.substr(i, j - i), out);
      i = j;
      continue;
    }
    size_t j = i;
    while (j < n && !is_han(s[j])) ++j;
    // Non-han segment [i, j): split by the skip pattern.
    size_t k = i, pending = i;
    while (k < j) {
      if (!is_alnum_ascii(s[k])) {
        ++k;
        continue;
      }
      size_t m = k;
      while (m < j && is_alnum_ascii(s[m])) ++m;
      if (m + 1 < j && s[m] == U'.' && is_digit(s[m + 1])) {
        m += 1;
        while (m < j && is_digit(s[m])) ++m;
      }
      if (m < j && s[m] == U'%') ++m;
      if (k > pending) out.push_back(to_utf8(s, pending, k));
      out.push_back(to_utf8(s, k, m));
      pending = k = m;
    }
    if (j > pending) out.push_back(to_utf8(s, pending, j));
    i = j;
  }
}

void JiebaSegmenter::viterbi_cut(const std::u32string& obs, std::vector<std::string>& out) const {
  const size_t n = obs.size();
  // Previous states allowed for each state (finalseg.PrevStatus), in the listed order.
  static constexpr int kPrev[4][2] = {{E, S}, {B, M}, {M, B}, {S, E}};  // for B, E, M, S
  auto emit = [&](int st, char32_t c) {
    const auto& t = emit_[static_cast<size_t>(st)];
    auto it = t.find(c);
    return it == t.end() ? kMinFloat : it->second;
  };
  std::vector<std::array<double, 4>> v(n);
  std::vector<std::array<int, 4>> back(n);
  for (int y = 0; y < 4; ++y) v[0][static_cast<size_t>(y)] = start_[static_cast<size_t>(y)] + emit(y, obs[0]);
  for (size_t t = 1; t < n; ++t) {
    for (int y = 0; y < 4; ++y) {
      const double em = emit(y, obs[t]);
      bool first = true;
      double best = 0;
      int best_state = 0;
      for (int y0 : kPrev[y]) {
        const double p = v[t - 1][static_cast<size_t>(y0)] + trans_[static_cast<size_t>(y0)][static_cast<size_t>(y)] + em;
        // max over (prob, state) tuples: ties go to the larger state letter.
        if (first || p > best || (p == best && y0 > best_state)) best = p, best_state = y0;
        first = false;
      }
      v[t][static_cast<size_t>(y)] = best;
      back[t][static_cast<size_t>(y)] = best_state;
    }
  }
  int last = (v[n - 1][S] > v[n - 1][E] || v[n - 1][S] == v[n - 1][E]) ? S : E;
  std::vector<int> path(n);
  path[n - 1] = last;
  for (size_t t = n - 1; t > 0; --t) path[t - 1] = back[t][static_cast<size_t>(path[t])];
  size_t begin = 0, next = 0;
  for (size_t i = 0; i < n; ++i) {
    if (path[i] == B) {
      begin = i;
    } else if (path[i] == E) {
      out.push_back(to_utf8(obs, begin, i + 1));
      next = i + 1;
    } else if (path[i] == S) {
      out.push_back(to_utf8(obs, i, i + 1));
      next = i + 1;
    }
  }
  if (next < n) out.push_back(to_utf8(obs, next, n));
}

}  // namespace psy::eval
