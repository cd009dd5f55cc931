#include "eval/sacrebleu.h"

#include <cmath>
#include <cstdio>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"

namespace psy::eval {

SacreTokenizer parse_sacrebleu_tokenizer(const std::string& name) {
  if (name == "13a") return SacreTokenizer::t13a;
  if (name == "zh") return SacreTokenizer::zh;
  throw Error("sacrebleu tokenizer " + expected_found("13a or zh", "'" + name + "'"));
}

std::string to_string(SacreTokenizer t) { return t == SacreTokenizer::zh ? "zh" : "13a"; }

SacreSmooth parse_sacrebleu_smooth(const std::string& name) {
  if (name == "exp") return SacreSmooth::exp;
  if (name == "floor") return SacreSmooth::floor;
  if (name == "add-k") return SacreSmooth::add_k;
  if (name == "none") return SacreSmooth::none;
  throw Error("sacrebleu smoothing " + expected_found("exp, floor, add-k or none", "'" + name + "'"));
}

std::string to_string(SacreSmooth s) {
  switch (s) {
    case SacreSmooth::exp: return "exp";
    case SacreSmooth::floor: return "floor";
    case SacreSmooth::add_k: return "add-k";
    case SacreSmooth::none: return "none";
  }
  return "exp";
}

namespace {

// sacrebleu's _UCODE_RANGES as Python compares them: a one-character string c lies in
// [start, end] by string order. A two-character bound such as '\u20000' ('\u2000' + '0') admits
// c > U+2000, and '\u2a6d6' admits c <= U+2A6D.
bool is_sacrebleu_chinese(char32_t c) {
  struct Range {
    char32_t lo, hi;
  };
  static constexpr Range kRanges[] = {
      {0x3400, 0x4DB5}, {0x4E00, 0x9FA5}, {0x9FA6, 0x9FBB}, {0xF900, 0xFA2D}, {0xFA30, 0xFA6A},
      {0xFA70, 0xFAD9}, {0x2001, 0x2A6D},  // '\u20000' .. '\u2a6d6'
      {0x2F81, 0x2FA1},                    // '\u2f800' .. '\u2fa1d'
      {0xFF00, 0xFFEF}, {0x2E80, 0x2EFF}, {0x3000, 0x303F}, {0x31C0, 0x31EF}, {0x2F00, 0x2FDF},
      {0x2FF0, 0x2FFF}, {0x3100, 0x312F}, {0x31A0, 0x31BF}, {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F},
      {0x2600, 0x26FF}, {0x2700, 0x27BF}, {0x3200, 0x32FF}, {0x3300, 0x33FF}};
  for (const auto& r : kRanges)
    if (c >= r.lo && c <= r.hi) return true;
  return false;
}

// Python str.rstrip() / str.strip() (Unicode whitespace) as code points.
std::vector<char32_t> python_strip(std::string_view text, bool left) {
  auto cps = decode_utf8(text);
  size_t begin = 0, end = cps.size();
  while (end > begin && is_python_space(cps[end - 1])) --end;
  if (left)
    while (begin < end && is_python_space(cps[begin])) ++begin;
  cps.erase(cps.begin() + static_cast<long>(end), cps.end());
  cps.erase(cps.begin(), cps.begin() + static_cast<long>(begin));
  return cps;
}

}  // namespace

void sacrebleu_tokenize_views(std::string_view segment, SacreTokenizer tokenizer, Sacre13aBuffers& buffers,
                              std::vector<std::string_view>& out) {
  if (tokenizer == SacreTokenizer::t13a) {
    // rstrip only changes a text that ends in whitespace: the common case needs no copy.
    const auto last = segment.empty() ? 0u : static_cast<unsigned char>(segment.back());
    if (segment.empty() || (last < 0x80 && !is_python_space(last))) return tokenize_13a_views(segment, buffers, out);
    const std::string stripped = encode_utf8(python_strip(segment, false));
    return tokenize_13a_views(stripped, buffers, out);  // the views point into buffers, not into `stripped`
  }
  const auto cps = python_strip(segment, true);  // rstrip, then zh's own strip
  std::string spaced;
  spaced.reserve(segment.size() * 2);
  for (char32_t c : cps) {
    if (is_sacrebleu_chinese(c)) {
      spaced.push_back(' ');
      append_utf8(spaced, c);
      spaced.push_back(' ');
    } else {
      append_utf8(spaced, c);
    }
  }
  sacrebleu_regexp_views(spaced, buffers, out);
}

Tokens sacrebleu_tokenize(std::string_view segment, SacreTokenizer tokenizer) {
  Sacre13aBuffers b;
  std::vector<std::string_view> views;
  sacrebleu_tokenize_views(segment, tokenizer, b, views);
  return Tokens(views.begin(), views.end());
}

SacreBleuStats& SacreBleuStats::operator+=(const SacreBleuStats& o) {
  for (int n = 0; n < kOrder; ++n) {
    correct[static_cast<size_t>(n)] += o.correct[static_cast<size_t>(n)];
    total[static_cast<size_t>(n)] += o.total[static_cast<size_t>(n)];
  }
  sys_len += o.sys_len;
  ref_len += o.ref_len;
  return *this;
}

double sacrebleu_score(const SacreBleuStats& st, const SacreBleuOptions& o) {
  constexpr int kOrder = SacreBleuStats::kOrder;
  const double value = o.smooth_value ? *o.smooth_value : o.smooth == SacreSmooth::floor ? 0.1 : 1.0;
  double bp = 1.0;
  if (st.sys_len < st.ref_len)
    bp = st.sys_len > 0 ? std::exp(1.0 - static_cast<double>(st.ref_len) / static_cast<double>(st.sys_len)) : 0.0;
  bool any = false;
  for (int64_t c : st.correct) any = any || c != 0;
  if (!any) return 0.0;
  std::array<double, kOrder> precisions{};
  // add-k makes correct and total floats in Python (int + float); the sums stay exact here.
  std::array<double, kOrder> correct{}, total{};
  for (size_t n = 0; n < kOrder; ++n) {
    correct[n] = static_cast<double>(st.correct[n]);
    total[n] = static_cast<double>(st.total[n]);
  }
  double smooth_mteval = 1.0;
  for (size_t n = 1; n <= kOrder; ++n) {
    if (o.smooth == SacreSmooth::add_k && n > 1) {
      correct[n - 1] += value;
      total[n - 1] += value;
    }
    if (total[n - 1] == 0) break;
    if (correct[n - 1] == 0) {
      if (o.smooth == SacreSmooth::exp) {
        smooth_mteval *= 2;
        precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1]);
      } else if (o.smooth == SacreSmooth::floor) {
        precisions[n - 1] = 100.0 * value / total[n - 1];
      }
    } else {
      precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1];
    }
  }
  // Python's sum() of a list: left to right from the integer 0.
  double log_sum = 0.0;
  for (double p : precisions) log_sum += p == 0.0 ? -9999999999.0 : std::log(p);
  return bp * std::exp(log_sum / kOrder);
}

std::string sacrebleu_signature(const SacreBleuOptions& o) {
  std::string smooth = to_string(o.smooth);
  if (o.smooth == SacreSmooth::floor || o.smooth == SacreSmooth::add_k) {
    const double value = o.smooth_value ? *o.smooth_value : o.smooth == SacreSmooth::floor ? 0.1 : 1.0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "[%.2f]", value);  // Python's f'{v:.2f}' (round half to even on the binary value)
    smooth += buf;
  }
  return "nrefs:1|case:mixed|eff:no|tok:" + to_string(o.tokenizer) + "|smooth:" + smooth +
         "|version:" + kSacreBleuVersion;
}

}  // namespace psy::eval
