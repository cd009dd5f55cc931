#include "eval/bertscore/wordpiece.h"

#include <sstream>

#include "eval/bertscore/unicode_classes.h"
#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"

namespace psy::eval {

namespace {

// Python's str.split(): runs of non-space code points.
std::vector<std::u32string> split_on_space(const std::u32string& text) {
  std::vector<std::u32string> out;
  std::u32string cur;
  for (char32_t c : text) {
    if (unicode::is_python_space(c)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string to_utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

}  // namespace

std::vector<std::u32string> bert_basic_tokenize(std::string_view text, const BasicTokenizerOptions& options) {
  std::u32string cleaned;
  for (char32_t c : decode_utf8(text)) {
    if (c == 0 || c == 0xFFFD || unicode::is_bert_control(c)) continue;
    if (unicode::is_bert_whitespace(c)) {
      cleaned.push_back(U' ');
    } else if (options.tokenize_chinese_chars && unicode::is_cjk_ideograph(c)) {
      cleaned.push_back(U' ');
      cleaned.push_back(c);
      cleaned.push_back(U' ');
    } else {
      cleaned.push_back(c);
    }
  }
  const bool strip = options.do_lower_case ? options.strip_accents.value_or(true) : options.strip_accents.value_or(false);

  std::vector<std::u32string> out;
  for (std::u32string word : split_on_space(unicode::nfc(cleaned))) {
    if (options.do_lower_case) word = unicode::to_lower(word);
    if (strip) word = unicode::strip_accents(word);
    std::u32string run;
    for (char32_t c : word) {
      if (unicode::is_bert_punctuation(c)) {
        if (!run.empty()) out.push_back(std::move(run));
        run.clear();
        out.push_back(std::u32string(1, c));
      } else {
        run.push_back(c);
      }
    }
    if (!run.empty()) out.push_back(std::move(run));
  }
  // transformers joins the pieces with spaces and splits again; only lower-casing could have
  // produced a space inside a piece.
  std::vector<std::u32string> resplit;
  for (const auto& piece : out)
    for (auto& p : split_on_space(piece)) resplit.push_back(std::move(p));
  return resplit;
}

WordPieceTokenizer::WordPieceTokenizer(const std::string& vocab_txt_path, BasicTokenizerOptions options,
                                       const std::string& unk_token, size_t max_chars_per_word)
    : options_(options), unk_token_(unk_token), max_chars_per_word_(max_chars_per_word) {
  std::istringstream lines(read_text_file(vocab_txt_path));
  std::string line;
  int64_t index = 0;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab_[line] = index++;
  }
  if (vocab_.empty()) throw Error(ErrorLocation{vocab_txt_path, 0, 0, "", "", ""}, "empty vocabulary");
  unk_id_ = token_to_id(unk_token_);
  if (unk_id_ < 0)
    throw Error(ErrorLocation{vocab_txt_path, 0, 0, "", "", ""}, "the unknown token '" + unk_token_ + "' is not in the vocabulary");
}

int64_t WordPieceTokenizer::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

void WordPieceTokenizer::wordpiece(const std::u32string& word, std::vector<std::string>& out) const {
  if (word.size() > max_chars_per_word_) {
    out.push_back(unk_token_);
    return;
  }
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    std::string found;
    while (start < end) {
      std::string candidate = to_utf8(word.substr(start, end - start));
      if (start > 0) candidate = "##" + candidate;
      if (vocab_.count(candidate)) {
        found = std::move(candidate);
        break;
      }
      --end;
    }
    if (found.empty()) {
      out.push_back(unk_token_);
      return;
    }
    pieces.push_back(std::move(found));
    start = end;
  }
  for (auto& p : pieces) out.push_back(std::move(p));
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  for (const auto& word : bert_basic_tokenize(text, options_)) wordpiece(word, tokens);
  return tokens;
}

std::vector<int64_t> WordPieceTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  for (const auto& t : tokenize(text)) {
    const int64_t id = token_to_id(t);
    ids.push_back(id < 0 ? unk_id_ : id);
  }
  return ids;
}

}  // namespace psy::eval
