// The BPE model of a tokenizer.json ("model": {"type": "BPE", ...}): vocabulary, ranked merges,
// unknown token, byte fallback (<0xNN> pieces), fuse_unk and ignore_merges, with the merge order
// of Hugging Face tokenizers (lowest rank first, leftmost on ties). Thread-safe; words are cached.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace psy {

struct BpeOptions {
  std::string unk_token;  // "" = none (unknown characters are dropped, as tokenizers does)
  bool byte_fallback = false;
  bool fuse_unk = false;
  bool ignore_merges = false;
};

class BpeModel {
 public:
  // `vocab`: (token, id); `merges`: pairs by rank. Errors name `file` and the key path below `key`.
  // Throws psy::Error when a merge names a token (or yields one) that is not in the vocabulary,
  // or when the unknown token is missing.
  BpeModel(std::vector<std::pair<std::string, int32_t>> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           BpeOptions options, const std::string& file, const std::string& key);
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-tokenized word. byte_level: `word` is raw text that the ByteLevel
  // pre-tokenizer maps to its byte alphabet first.
  void encode(std::string_view word, bool byte_level, std::vector<int32_t>& out) const;

  int32_t token_to_id(std::string_view token) const;  // -1 when absent
  const std::string* id_to_token(int32_t id) const;   // nullptr when absent
  int32_t max_id() const { return static_cast<int32_t>(tokens_.size()) - 1; }
  bool is_byte_piece(int32_t id) const;                // a <0xNN> byte-fallback piece
  int32_t unk_id() const { return unk_id_; }
  const BpeOptions& options() const { return options_; }

 private:
  void encode_uncached(std::string_view word, bool byte_level, std::vector<int32_t>& out) const;
  void merge(std::vector<int32_t>& symbols) const;

  BpeOptions options_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> tokens_;  // by id ("" for holes)
  std::vector<bool> has_token_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left << 32 | right) -> (rank, merged id)
  std::unordered_map<char32_t, int32_t> char_ids_;  // single-character tokens
  int32_t byte_symbol_ids_[256];                    // ByteLevel: the token of each byte's symbol, or -1
  int32_t byte_piece_ids_[256];                     // byte fallback: the id of <0xNN>, or -1
  int32_t unk_id_ = -1;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_[2];  // [byte_level]
};

}  // namespace psy
