#include "eval/bertscore/byte_level_bpe.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <sstream>

#include "eval/bertscore/unicode_classes.h"
#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"

namespace psy::eval {

namespace {

struct CodePoint {
  char32_t cp;
  size_t byte_begin;
};

std::vector<CodePoint> decode_with_offsets(std::string_view text) {
  std::vector<CodePoint> out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    size_t len = b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 1;
    if (i + len > text.size()) len = 1;
    const auto cps = decode_utf8(text.substr(i, len));
    out.push_back({cps.size() == 1 ? cps[0] : char32_t{0xFFFD}, i});
    i += len;
  }
  return out;
}

enum class Kind { Letter, Number, Space, Other };

Kind kind_of(char32_t c) {
  if (unicode::is_letter(c)) return Kind::Letter;
  if (unicode::is_number(c)) return Kind::Number;
  if (unicode::is_regex_space(c)) return Kind::Space;
  return Kind::Other;
}

// Length (in code points) of the contraction starting at i ('s 't 're 've 'm 'll 'd), or 0.
size_t contraction_length(const std::vector<CodePoint>& cps, size_t i) {
  if (cps[i].cp != U'\'' || i + 1 >= cps.size()) return 0;
  const char32_t a = cps[i + 1].cp;
  if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
  if (i + 2 < cps.size()) {
    const char32_t b = cps[i + 2].cp;
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  }
  return 0;
}

std::string merge_key(const std::string& a, const std::string& b) { return a + '\x01' + b; }

constexpr size_t kMaxCacheEntries = 200000;

}  // namespace

std::vector<std::string> gpt2_pre_tokenize(std::string_view text) {
  const std::vector<CodePoint> cps = decode_with_offsets(text);
  std::vector<Kind> kinds(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) kinds[i] = kind_of(cps[i].cp);
  const size_t n = cps.size();
  auto byte_at = [&](size_t i) { return i < n ? cps[i].byte_begin : text.size(); };
  // End of the run of `k` starting at i.
  auto run_end = [&](size_t i, Kind k) {
    while (i < n && kinds[i] == k) ++i;
    return i;
  };

  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < n) {
    size_t end = i;
    if (size_t c = contraction_length(cps, i)) {
      end = i + c;
    } else {
      // ` ?X+` for X in letters, numbers, other: an optional U+0020 then a run of X.
      const bool lead_space = cps[i].cp == U' ' && i + 1 < n && kinds[i + 1] != Kind::Space;
      const size_t start = lead_space ? i + 1 : i;
      if (kinds[start] != Kind::Space) {
        end = run_end(start, kinds[start]);
      } else {
        // \s+(?!\S) backtracks to leave the last space before a non-space; else \s+.
        const size_t space_end = run_end(i, Kind::Space);
        if (space_end == n || space_end - i == 1) {
          end = space_end;
        } else {
          end = space_end - 1;
        }
      }
    }
    pieces.emplace_back(text.substr(byte_at(i), byte_at(end) - byte_at(i)));
    i = end;
  }
  return pieces;
}

const std::vector<std::string>& gpt2_byte_symbols() {
  static const std::vector<std::string> table = [] {
    std::vector<char32_t> cps(256, 0);
    std::vector<bool> printable(256, false);
    for (int b = '!'; b <= '~'; ++b) printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) cps[b] = printable[b] ? static_cast<char32_t>(b) : next++;
    std::vector<std::string> out(256);
    for (int b = 0; b < 256; ++b) append_utf8(out[b], cps[b]);
    return out;
  }();
  return table;
}

ByteLevelBpe::ByteLevelBpe(const std::string& vocab_json_path, const std::string& merges_path,
                           const std::string& unk_token) {
  const std::string vocab_text = read_text_file(vocab_json_path);
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(vocab_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorLocation{vocab_json_path, 0, 0, "", "", ""}, std::string("invalid JSON: ") + e.what());
  }
  if (!vocab.is_object()) throw Error(ErrorLocation{vocab_json_path, 0, 0, "", "", ""}, expected_found("a JSON object token -> id", vocab.type_name()));
  vocab_.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer())
      throw Error(ErrorLocation{vocab_json_path, 0, 0, "token " + it.key(), "", ""}, expected_found("an integer id", it.value().dump()));
    vocab_[it.key()] = it.value().get<int64_t>();
  }
  unk_id_ = token_to_id(unk_token);
  if (unk_id_ < 0)
    throw Error(ErrorLocation{vocab_json_path, 0, 0, "", "", ""}, "the unknown token '" + unk_token + "' is not in the vocabulary");

  const std::string merges_text = read_text_file(merges_path);
  std::istringstream lines(merges_text);
  std::string line;
  long line_no = 0;
  int rank = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.rfind("#version", 0) == 0) continue;
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size() || line.find(' ', space + 1) != std::string::npos)
      throw Error(ErrorLocation{merges_path, line_no, 0, "", "", ""}, expected_found("two symbols separated by one space", "'" + line + "'"));
    merge_rank_.emplace(merge_key(line.substr(0, space), line.substr(space + 1)), rank++);
  }
}

int64_t ByteLevelBpe::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

std::vector<std::string> ByteLevelBpe::bpe(const std::string& symbols) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(symbols);
    if (it != cache_.end()) return it->second;
  }
  std::vector<std::string> word;
  {
    const auto cps = decode_utf8(symbols);
    for (char32_t c : cps) {
      std::string s;
      append_utf8(s, c);
      word.push_back(std::move(s));
    }
  }
  while (word.size() > 1) {
    int best_rank = INT_MAX;
    size_t best = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      const auto it = merge_rank_.find(merge_key(word[i], word[i + 1]));
      if (it != merge_rank_.end() && it->second < best_rank) {
        best_rank = it->second;
        best = i;
      }
    }
    if (best_rank == INT_MAX) break;
    const std::string first = word[best], second = word[best + 1];
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i]);
        ++i;
      }
    }
    word = std::move(merged);
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(symbols, word);
  return word;
}

std::vector<std::string> ByteLevelBpe::tokenize(std::string_view text) const {
  const auto& symbols = gpt2_byte_symbols();
  std::vector<std::string> tokens;
  for (const std::string& piece : gpt2_pre_tokenize(text)) {
    std::string mapped;
    for (unsigned char b : piece) mapped += symbols[b];
    for (auto& t : bpe(mapped)) tokens.push_back(std::move(t));
  }
  return tokens;
}

std::vector<int64_t> ByteLevelBpe::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  for (const std::string& t : tokenize(text)) {
    const int64_t id = token_to_id(t);
    ids.push_back(id < 0 ? unk_id_ : id);
  }
  return ids;
}

}  // namespace psy::eval
