#include "libpsy/text/normalizer.h"

#include "libpsy/core/utf8.h"
#include "libpsy/text/unicode_props.h"

namespace psy {

namespace {

const char* kSupported = "NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Strip, Sequence";

void parse_into(const nlohmann::json& j, const JsonSpot& at, std::vector<NormalizerStep>& out) {
  require_object(j, at);
  const std::string type = get_string(j, "type", at);
  NormalizerStep s;
  if (type == "Sequence") {
    check_keys(j, at, {"normalizers"});
    if (!j.contains("normalizers") || !j["normalizers"].is_array()) throw_bad_value(at.child("normalizers"), "a list", j.value("normalizers", nlohmann::json()));
    for (size_t i = 0; i < j["normalizers"].size(); ++i) parse_into(j["normalizers"][i], at.child("normalizers").index(i), out);
    return;
  }
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD" || type == "Lowercase") {
    check_keys(j, at, {});
    s.kind = type == "NFC" ? NormalizerStep::Kind::NFC
             : type == "NFD" ? NormalizerStep::Kind::NFD
             : type == "NFKC" ? NormalizerStep::Kind::NFKC
             : type == "NFKD" ? NormalizerStep::Kind::NFKD : NormalizerStep::Kind::Lowercase;
  } else if (type == "Replace") {
    check_keys(j, at, {"pattern", "content"});
    bool regex = false;
    s.kind = NormalizerStep::Kind::Replace;
    s.pattern = get_pattern(j, "pattern", at, regex);
    s.content = get_string(j, "content", at);
    if (regex) {
      try {
        s.regex = std::make_shared<SplitRegex>(s.pattern);
      } catch (const std::exception& e) {
        throw_unsupported(at.child("pattern"), e.what(), "the regex subset described in split_regex.h");
      }
    } else if (s.pattern.empty()) {
      throw_bad_value(at.child("pattern"), "a non-empty string", j["pattern"]);
    }
  } else if (type == "Prepend") {
    check_keys(j, at, {"prepend"});
    s.kind = NormalizerStep::Kind::Prepend;
    s.content = get_string(j, "prepend", at);
  } else if (type == "Strip") {
    check_keys(j, at, {"strip_left", "strip_right"});
    s.kind = NormalizerStep::Kind::Strip;
    s.strip_left = get_bool_or(j, "strip_left", at, false);
    s.strip_right = get_bool_or(j, "strip_right", at, false);
  } else {
    throw_unsupported(at.child("type"), "'" + type + "'", kSupported);
  }
  out.push_back(std::move(s));
}

std::string replace_all(std::string_view text, const NormalizerStep& s) {
  std::string out;
  out.reserve(text.size());
  if (s.regex) {
    size_t last = 0;
    for (const auto& [b, e] : s.regex->find_all(text)) {
      out.append(text.substr(last, b - last));
      out += s.content;
      last = e;
    }
    out.append(text.substr(last));
    return out;
  }
  size_t last = 0;
  while (true) {
    const size_t hit = text.find(s.pattern, last);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(last, hit - last));
    out += s.content;
    last = hit + s.pattern.size();
  }
  out.append(text.substr(last));
  return out;
}

std::string strip(std::string_view text, bool left, bool right) {
  const auto cps = decode_utf8(text);
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && unicode::is_white_space(cps[b])) ++b;
  if (right)
    while (e > b && unicode::is_white_space(cps[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) append_utf8(out, cps[i]);
  return out;
}

}  // namespace

bool Normalizer::prepends() const {
  for (const auto& s : steps)
    if (s.kind == NormalizerStep::Kind::Prepend) return true;
  return false;
}

Normalizer parse_normalizer(const nlohmann::json& j, const JsonSpot& at) {
  Normalizer n;
  if (j.is_null()) return n;
  parse_into(j, at, n.steps);
  return n;
}

std::string normalize_text(const Normalizer& n, std::string_view text, bool allow_prepend) {
  std::string s(text);
  for (const auto& step : n.steps) {
    switch (step.kind) {
      case NormalizerStep::Kind::NFC: s = unicode::normalize(s, unicode::NormalForm::NFC); break;
      case NormalizerStep::Kind::NFD: s = unicode::normalize(s, unicode::NormalForm::NFD); break;
      case NormalizerStep::Kind::NFKC: s = unicode::normalize(s, unicode::NormalForm::NFKC); break;
      case NormalizerStep::Kind::NFKD: s = unicode::normalize(s, unicode::NormalForm::NFKD); break;
      case NormalizerStep::Kind::Lowercase: s = unicode::to_lower(s); break;
      case NormalizerStep::Kind::Replace: s = replace_all(s, step); break;
      case NormalizerStep::Kind::Prepend:
        if (allow_prepend && !s.empty()) s = step.content + s;
        break;
      case NormalizerStep::Kind::Strip: s = strip(s, step.strip_left, step.strip_right); break;
    }
  }
  return s;
}

}  // namespace psy
