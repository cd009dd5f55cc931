// A segmenter that reproduces `jieba.cut(text)` of jieba 0.42.1 (accurate mode, HMM on) token for
// token, reading jieba's own data at run time: the prefix dictionary `dict.txt` and the HMM tables
// `finalseg/prob_{start,trans,emit}.py` (as the Debian package python3-jieba ships them).
//
//   text -> blocks of [\u4E00-\u9FD5a-zA-Z0-9+#&._%-]+ ("han" blocks) and the rest
//   han block -> DAG of dictionary words -> max log-probability route -> runs of single
//                characters not in the dictionary -> HMM (Viterbi over B/M/E/S)
//   other block -> "\r\n" and each whitespace character as its own token, every other
//                  character as its own token
// So on English jieba keeps every space as a " " token and splits off punctuation.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace psy::eval {

class JiebaSegmenter {
 public:
  // Loads dict.txt and finalseg/prob_*.py from `dir`. An empty dir means the default:
  // env PSY_JIEBA_DIR, else /usr/lib/python3/dist-packages/jieba. Throws psy::Error naming the
  // missing file (and the package that provides it) when the data is absent or malformed.
  static JiebaSegmenter load(const std::string& dir = "");
  static std::string default_dir();

  // list(jieba.cut(text)): whitespace tokens included.
  std::vector<std::string> cut(std::string_view text) const;
  // " ".join(jieba.cut(text)).split(): the tokens without whitespace (split at inner spaces too).
  std::vector<std::string> cut_no_space(std::string_view text) const;
  // The same from tokens cut() returned (so a caller needing both cuts only once).
  static std::vector<std::string> without_space(std::vector<std::string> jieba_tokens);

  // "0.42.1-dict:<first 8 hex digits of dict.txt's md5>", for metric signatures.
  const std::string& version() const { return version_; }
  const std::string& dict_md5() const { return dict_md5_; }
  const std::string& dir() const { return dir_; }

 private:
  void cut_han_block(const std::u32string& block, std::vector<std::string>& out) const;
  void cut_hmm(const std::u32string& run, std::vector<std::string>& out) const;
  void viterbi_cut(const std::u32string& run, std::vector<std::string>& out) const;
  int64_t freq(const std::u32string& s, size_t begin, size_t end) const;  // -1 when absent

  std::unordered_map<std::u32string, int64_t> freq_;  // words and their prefixes (prefixes 0)
  int64_t total_ = 0;
  double log_total_ = 0;
  std::array<double, 4> start_{};                     // states B, E, M, S
  std::array<std::array<double, 4>, 4> trans_{};      // trans_[from][to]
  std::array<std::unordered_map<char32_t, double>, 4> emit_;
  std::string dir_, dict_md5_, version_;
};

}  // namespace psy::eval
