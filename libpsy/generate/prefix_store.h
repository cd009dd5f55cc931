// Keys and values of recently prefilled prompts, so that a prompt starting like one of them
// prefills only the tokens after the shared start (automatic prefix caching, as vLLM calls it).
//
// Evaluation prompts share long starts: every held-out turn of a session repeats the session's
// system prompt and the dialogue before it, so turn k's prompt begins with all of turn k-1's.
// Continuous batching (continuous_batching.h) looks each prompt up here before its prefill and
// stores the prompt's batch-1 cache after it:
//
//   PrefixStore store(512 << 20);
//   PrefixStore::Match m = store.longest_prefix(prompt);      // m.length tokens need no prefill
//   KVCache single = m.length ? m.cache->prefix_copy(m.length, n) : KVCache(layers);
//   ... prefill prompt[m.length:] into single ...
//   store.add(prompt, std::move(single));
//
// The reused keys/values were computed by the same weights over the same tokens at the same
// positions; only the summation order of the products that produce them may differ (a longer
// prefill's matrix product vs a shorter one's), i.e. fp rounding.
#pragma once
#include <cstdint>
#include <list>
#include <vector>

#include "libpsy/nn/kv_cache.h"

namespace psy {

class PrefixStore {
 public:
  // Entries are evicted, least recently used first, to keep their buffers within max_bytes;
  // 0 stores nothing.
  explicit PrefixStore(int64_t max_bytes) : max_bytes_(max_bytes) {}

  struct Match {
    const KVCache* cache = nullptr;  // valid until the next add()
    int64_t length = 0;              // tokens of the prompt whose keys/values it holds
  };

  // The entry sharing the longest start with `prompt`; at most prompt.size() - 1 tokens, so that
  // the last token is always prefilled (it gives the next token's logits). Marks it recently used.
  Match longest_prefix(const std::vector<int64_t>& prompt);

  // Stores a batch-1 cache of `prompt` (its first prompt.size() positions). A prompt that is the
  // start of an entry adds nothing (that entry already serves it); entries that are starts of
  // `prompt` are dropped (this one serves them).
  void add(const std::vector<int64_t>& prompt, KVCache cache);

  std::size_t entries() const { return entries_.size(); }
  int64_t bytes() const { return bytes_; }

 private:
  struct Entry {
    std::vector<int64_t> tokens;
    KVCache cache;
    int64_t bytes = 0;
  };
  void evict_to(int64_t max_bytes);

  int64_t max_bytes_;
  int64_t bytes_ = 0;
  std::list<Entry> entries_;  // most recently used last
};

// Tokens at the start of `a` and `b` that are equal.
int64_t common_prefix_length(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace psy
