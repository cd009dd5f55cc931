#include "libpsy/text/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "libpsy/core/error.h"
#include "libpsy/core/utf8.h"
#include "libpsy/text/byte_level.h"

namespace psy {

namespace {

constexpr size_t kMaxCachedWordBytes = 256;
constexpr size_t kMaxCacheEntries = 200000;

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Next code point of valid UTF-8 at `i` (advances i).
char32_t next_cp(std::string_view s, size_t& i, size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t cp;
  if (len == 1) {
    cp = b0 < 0x80 ? b0 : 0xFFFD;
  } else {
    cp = b0 & (0xFF >> (len + 1));
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  i += len;
  return cp;
}

}  // namespace

BpeModel::BpeModel(std::vector<std::pair<std::string, int32_t>> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
                   const std::string& file, const std::string& key)
    : options_(std::move(options)) {
  auto at = [&](const std::string& sub) { return file + ": key '" + key + sub + "'"; };
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab) {
    if (id < 0 || id > 16000000) throw Error(at(".vocab") + ": token '" + token + "' has id " + std::to_string(id) + " (expected 0..16000000)");
    max_id = std::max(max_id, id);
  }
  tokens_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_token_.assign(static_cast<size_t>(max_id + 1), false);
  vocab_.reserve(vocab.size());
  for (auto& [token, id] : vocab) {
    tokens_[static_cast<size_t>(id)] = token;
    has_token_[static_cast<size_t>(id)] = true;
    vocab_[token] = id;
  }
  for (const auto& [token, id] : vocab_) {
    if (token.empty() || find_invalid_utf8(token) != std::string_view::npos) continue;
    size_t i = 0, len = 0;
    const char32_t cp = next_cp(token, i, len);
    if (i == token.size()) char_ids_[cp] = id;
  }
  const auto& symbols = byte_level_symbols();
  for (int b = 0; b < 256; ++b) {
    auto it = vocab_.find(symbols[static_cast<size_t>(b)]);
    byte_symbol_ids_[b] = it == vocab_.end() ? -1 : it->second;
    char piece[8];
    std::snprintf(piece, sizeof piece, "<0x%02X>", b);
    it = vocab_.find(piece);
    byte_piece_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const int32_t ia = token_to_id(a), ib = token_to_id(b), im = token_to_id(a + b);
    const std::string what = at(".merges[" + std::to_string(rank) + "]") + " ('" + a + "' '" + b + "')";
    if (ia < 0) throw Error(what + ": '" + a + "' is not in the vocabulary");
    if (ib < 0) throw Error(what + ": '" + b + "' is not in the vocabulary");
    if (im < 0) throw Error(what + ": the merged token '" + a + b + "' is not in the vocabulary");
    merges_[pair_key(ia, ib)] = {static_cast<int32_t>(rank), im};  // a repeated merge: the last one wins, as in tokenizers
  }
  if (!options_.unk_token.empty()) {
    unk_id_ = token_to_id(options_.unk_token);
    if (unk_id_ < 0) throw Error(at(".unk_token") + ": '" + options_.unk_token + "' is not in the vocabulary");
  }
}

int32_t BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || id >= static_cast<int32_t>(tokens_.size()) || !has_token_[static_cast<size_t>(id)]) return nullptr;
  return &tokens_[static_cast<size_t>(id)];
}

bool BpeModel::is_byte_piece(int32_t id) const {
  const std::string* t = id_to_token(id);
  if (!t || t->size() != 6) return false;
  for (int b = 0; b < 256; ++b)
    if (byte_piece_ids_[b] == id) return true;
  return false;
}

void BpeModel::merge(std::vector<int32_t>& symbols) const {
  const size_t n = symbols.size();
  if (n < 2) return;
  if (n <= 6) {
    // Short words: scan for the best pair each round.
    while (symbols.size() > 1) {
      int32_t best_rank = INT32_MAX, best_id = -1;
      size_t best = 0;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        auto it = merges_.find(pair_key(symbols[i], symbols[i + 1]));
        if (it != merges_.end() && it->second.first < best_rank) {
          best_rank = it->second.first;
          best_id = it->second.second;
          best = i;
        }
      }
      if (best_id < 0) break;
      symbols[best] = best_id;
      symbols.erase(symbols.begin() + static_cast<long>(best) + 1);
    }
    return;
  }
  // Longer words: a heap of candidate merges over a linked list of symbols.
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Cand {
    int32_t rank;
    int32_t pos;
    int32_t left, right;  // the ids the pair had when queued
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int32_t i) {
    if (i < 0) return;
    const int32_t j = next[static_cast<size_t>(i)];
    if (j < 0) return;
    auto it = merges_.find(pair_key(symbols[static_cast<size_t>(i)], symbols[static_cast<size_t>(j)]));
    if (it != merges_.end()) heap.push(Cand{it->second.first, i, symbols[static_cast<size_t>(i)], symbols[static_cast<size_t>(j)]});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    const auto i = static_cast<size_t>(c.pos);
    if (!alive[i] || symbols[i] != c.left) continue;
    const int32_t j = next[i];
    if (j < 0 || symbols[static_cast<size_t>(j)] != c.right) continue;
    auto it = merges_.find(pair_key(c.left, c.right));
    if (it == merges_.end() || it->second.first != c.rank) continue;
    symbols[i] = it->second.second;
    alive[static_cast<size_t>(j)] = false;
    next[i] = next[static_cast<size_t>(j)];
    if (next[i] >= 0) prev[static_cast<size_t>(next[i])] = static_cast<int32_t>(i);
    push(prev[i]);
    push(static_cast<int32_t>(i));
  }
  size_t w = 0;
  for (int32_t i = 0; i >= 0; i = next[static_cast<size_t>(i)]) symbols[w++] = symbols[static_cast<size_t>(i)];
  symbols.resize(w);
}

void BpeModel::encode_uncached(std::string_view word, bool byte_level, std::vector<int32_t>& out) const {
  if (options_.ignore_merges) {
    const int32_t whole = token_to_id(byte_level ? byte_level_encode(word) : std::string(word));
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(word.size());
  if (byte_level) {
    const auto& sym = byte_level_symbols();
    bool last_unk = false;
    for (unsigned char b : word) {
      const int32_t id = byte_symbol_ids_[b];
      if (id >= 0) {
        symbols.push_back(id);
        last_unk = false;
        continue;
      }
      // The byte's symbol is missing from the vocabulary: byte fallback on the symbol's UTF-8
      // bytes (as tokenizers does), else the unknown token.
      if (options_.byte_fallback) {
        bool all = true;
        for (unsigned char s : sym[b]) all = all && byte_piece_ids_[s] >= 0;
        if (all) {
          for (unsigned char s : sym[b]) symbols.push_back(byte_piece_ids_[s]);
          last_unk = false;
          continue;
        }
      }
      if (unk_id_ >= 0) {
        if (!(options_.fuse_unk && last_unk)) symbols.push_back(unk_id_);
        last_unk = true;
      }
    }
  } else {
    size_t i = 0;
    bool last_unk = false;
    while (i < word.size()) {
      size_t len = 0;
      const size_t start = i;
      const char32_t cp = next_cp(word, i, len);
      auto it = char_ids_.find(cp);
      if (it != char_ids_.end()) {
        symbols.push_back(it->second);
        last_unk = false;
        continue;
      }
      if (options_.byte_fallback) {
        bool all = true;
        for (size_t k = start; k < i; ++k) all = all && byte_piece_ids_[static_cast<unsigned char>(word[k])] >= 0;
        if (all) {
          for (size_t k = start; k < i; ++k) symbols.push_back(byte_piece_ids_[static_cast<unsigned char>(word[k])]);
          last_unk = false;
          continue;
        }
      }
      if (unk_id_ >= 0) {
        if (!(options_.fuse_unk && last_unk)) symbols.push_back(unk_id_);
        last_unk = true;
      }
    }
  }
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

void BpeModel::encode(std::string_view word, bool byte_level, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() > kMaxCachedWordBytes) {
    encode_uncached(word, byte_level, out);
    return;
  }
  auto& cache = cache_[byte_level ? 1 : 0];
  const std::string key(word);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache.find(key);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t before = out.size();
  encode_uncached(word, byte_level, out);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache.size() >= kMaxCacheEntries) cache.clear();
  cache.emplace(key, std::vector<int32_t>(out.begin() + static_cast<long>(before), out.end()));
}

}  // namespace psy
