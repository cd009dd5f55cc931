#include "libpsy/text/pre_tokenizer.h"

#include <algorithm>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"
#include "libpsy/text/unicode_props.h"

namespace psy {

namespace {

const char* kSupported = "Split, ByteLevel, Metaspace, Digits, Sequence";
const char* kGpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

std::shared_ptr<const SplitRegex> compile(const std::string& pattern, const JsonSpot& at) {
  try {
    return std::make_shared<SplitRegex>(pattern);
  } catch (const Error& e) {
    throw_unsupported(at, e.what(), "the regex subset of libpsy/text/split_regex.h");
  }
}

SplitBehavior parse_behavior(const nlohmann::json& j, const JsonSpot& at) {
  const std::string b = get_string(j, "behavior", at);
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  throw_unsupported(at.child("behavior"), "'" + b + "'", "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

void parse_into(const nlohmann::json& j, const JsonSpot& at, PreTokenizer& out) {
  require_object(j, at);
  const std::string type = get_string(j, "type", at);
  if (out.byte_level) throw_unsupported(at, "a pre-tokenizer after ByteLevel", "ByteLevel as the last pre-tokenizer");
  PreTokenizerStep s;
  if (type == "Sequence") {
    check_keys(j, at, {"pretokenizers"});
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array())
      throw_bad_value(at.child("pretokenizers"), "a list", j.value("pretokenizers", nlohmann::json()));
    for (size_t i = 0; i < j["pretokenizers"].size(); ++i) parse_into(j["pretokenizers"][i], at.child("pretokenizers").index(i), out);
    return;
  }
  if (type == "Split") {
    check_keys(j, at, {"pattern", "behavior", "invert"});
    bool regex = false;
    const std::string pattern = get_pattern(j, "pattern", at, regex);
    if (regex) {
      s.regex = compile(pattern, at.child("pattern"));
    } else {
      if (pattern.empty()) throw_bad_value(at.child("pattern"), "a non-empty string", j["pattern"]);
      s.literal = pattern;
    }
    s.behavior = parse_behavior(j, at);
    s.invert = get_bool_or(j, "invert", at, false);
  } else if (type == "ByteLevel") {
    check_keys(j, at, {"add_prefix_space", "trim_offsets", "use_regex"});
    s.kind = PreTokenizerStep::Kind::ByteLevel;
    s.add_prefix_space = get_bool_or(j, "add_prefix_space", at, true);
    if (get_bool_or(j, "use_regex", at, true)) s.regex = compile(kGpt2Pattern, at);
    out.byte_level = true;
  } else if (type == "Metaspace") {
    check_keys(j, at, {"replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep"});
    s.kind = PreTokenizerStep::Kind::Metaspace;
    s.replacement = get_string(j, "replacement", at);
    if (s.replacement.empty()) throw_bad_value(at.child("replacement"), "one character", j["replacement"]);
    if (j.contains("prepend_scheme")) {
      const std::string scheme = get_string(j, "prepend_scheme", at);
      if (scheme == "always") s.prepend = PreTokenizerStep::Prepend::Always;
      else if (scheme == "first") s.prepend = PreTokenizerStep::Prepend::First;
      else if (scheme == "never") s.prepend = PreTokenizerStep::Prepend::Never;
      else throw_unsupported(at.child("prepend_scheme"), "'" + scheme + "'", "always, first, never");
    } else {
      s.prepend = get_bool_or(j, "add_prefix_space", at, true) ? PreTokenizerStep::Prepend::Always : PreTokenizerStep::Prepend::Never;
    }
    s.split = get_bool_or(j, "split", at, true);
  } else if (type == "Digits") {
    check_keys(j, at, {"individual_digits"});
    s.kind = PreTokenizerStep::Kind::Digits;
    s.individual_digits = get_bool_or(j, "individual_digits", at, false);
  } else {
    throw_unsupported(at.child("type"), "'" + type + "'", kSupported);
  }
  out.steps.push_back(std::move(s));
}

// (begin, end) of each match of a literal / of each character satisfying `pred`.
std::vector<std::pair<size_t, size_t>> literal_matches(std::string_view text, const std::string& literal) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t at = 0;
  while ((at = text.find(literal, at)) != std::string_view::npos) {
    out.emplace_back(at, at + literal.size());
    at += literal.size();
  }
  return out;
}

// Each numeric character (Rust's char::is_numeric), as tokenizers' Digits.
std::vector<std::pair<size_t, size_t>> digit_matches(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      if (b0 >= '0' && b0 <= '9') out.emplace_back(i, i + 1);
      ++i;
      continue;
    }
    size_t len = (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 1;
    if (i + len > text.size()) len = 1;
    const auto cps = decode_utf8(text.substr(i, len));
    if (cps.size() == 1 && unicode::is_rust_numeric(cps[0])) out.emplace_back(i, i + len);
    i += len;
  }
  return out;
}

struct Piece {
  std::string text;
  bool at_origin;
  bool allow_prefix;
};

void split_piece(const Piece& p, const std::vector<std::pair<size_t, size_t>>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>& out) {
  for (const auto& [b, e] : apply_split_behavior(matches, p.text.size(), behavior, invert))
    out.push_back(Piece{p.text.substr(b, e - b), p.at_origin && b == 0, p.allow_prefix || b != 0});
}

}  // namespace

bool PreTokenizer::adds_prefix() const {
  for (const auto& s : steps) {
    if (s.kind == PreTokenizerStep::Kind::ByteLevel && s.add_prefix_space) return true;
    if (s.kind == PreTokenizerStep::Kind::Metaspace && s.prepend != PreTokenizerStep::Prepend::Never) return true;
  }
  return false;
}

std::string PreTokenizer::metaspace_replacement() const {
  for (const auto& s : steps)
    if (s.kind == PreTokenizerStep::Kind::Metaspace) return s.replacement;
  return "";
}

PreTokenizer parse_pre_tokenizer(const nlohmann::json& j, const JsonSpot& at) {
  PreTokenizer p;
  if (j.is_null()) return p;
  parse_into(j, at, p);
  return p;
}

std::vector<std::pair<size_t, size_t>> apply_split_behavior(const std::vector<std::pair<size_t, size_t>>& matches,
                                                            size_t length, SplitBehavior behavior, bool invert) {
  // The ranges covering the text, each marked match or gap.
  struct Range {
    size_t b, e;
    bool match;
  };
  std::vector<Range> ranges;
  ranges.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (prev != b) ranges.push_back({prev, b, invert});
    ranges.push_back({b, e, !invert});
    prev = e;
  }
  if (prev != length) ranges.push_back({prev, length, invert});

  std::vector<Range> merged;
  merged.reserve(ranges.size());
  switch (behavior) {
    case SplitBehavior::Isolated: merged = ranges; break;
    case SplitBehavior::Removed:
      for (const auto& r : ranges)
        if (!r.match) merged.push_back(r);
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool previous_match = false;
      for (const auto& r : ranges) {
        if (r.match && !previous_match && !merged.empty()) merged.back().e = r.e;
        else merged.push_back({r.b, r.e, false});
        previous_match = r.match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous_match = false;
      for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
        if (it->match && !previous_match && !merged.empty()) merged.back().b = it->b;
        else merged.push_back({it->b, it->e, false});
        previous_match = it->match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool previous_match = false;
      for (const auto& r : ranges) {
        if (r.match == previous_match && !merged.empty()) merged.back().e = r.e;
        else merged.push_back({r.b, r.e, false});
        previous_match = r.match;
      }
      break;
    }
  }
  std::vector<std::pair<size_t, size_t>> out;
  out.reserve(merged.size());
  for (const auto& r : merged)
    if (r.e > r.b) out.emplace_back(r.b, r.e);
  return out;
}

void pre_tokenize(const PreTokenizer& p, std::string_view text, bool at_origin, bool allow_prefix,
                  std::vector<std::string>& pieces) {
  if (text.empty()) return;
  if (p.steps.empty()) {
    pieces.emplace_back(text);
    return;
  }
  std::vector<Piece> current{Piece{std::string(text), at_origin, allow_prefix}}, next;
  for (const auto& s : p.steps) {
    next.clear();
    for (Piece& piece : current) {
      switch (s.kind) {
        case PreTokenizerStep::Kind::Split:
          split_piece(piece, s.regex ? s.regex->find_all(piece.text) : literal_matches(piece.text, s.literal), s.behavior,
                      s.invert, next);
          break;
        case PreTokenizerStep::Kind::Digits:
          split_piece(piece, digit_matches(piece.text),
                      s.individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false, next);
          break;
        case PreTokenizerStep::Kind::ByteLevel: {
          if (s.add_prefix_space && piece.allow_prefix && (piece.text.empty() || piece.text[0] != ' '))
            piece.text.insert(0, " ");
          if (s.regex) {
            split_piece(piece, s.regex->find_all(piece.text), SplitBehavior::Isolated, false, next);
          } else {
            next.push_back(std::move(piece));
          }
          break;
        }
        case PreTokenizerStep::Kind::Metaspace: {
          std::string t;
          t.reserve(piece.text.size() + 3);
          for (char c : piece.text) {
            if (c == ' ') t += s.replacement;
            else t += c;
          }
          const bool starts = t.compare(0, s.replacement.size(), s.replacement) == 0;
          const bool prepend = s.prepend == PreTokenizerStep::Prepend::Always ||
                               (s.prepend == PreTokenizerStep::Prepend::First && piece.at_origin);
          if (prepend && !starts && piece.allow_prefix) t.insert(0, s.replacement);
          Piece replaced{std::move(t), piece.at_origin, piece.allow_prefix};
          if (s.split) {
            split_piece(replaced, literal_matches(replaced.text, s.replacement), SplitBehavior::MergedWithNext, false, next);
          } else {
            next.push_back(std::move(replaced));
          }
          break;
        }
      }
    }
    current.swap(next);
  }
  for (auto& piece : current) pieces.push_back(std::move(piece.text));
}

}  // namespace psy
