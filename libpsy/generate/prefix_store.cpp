#include "libpsy/generate/prefix_store.h"

#include <algorithm>
#include <iterator>

namespace psy {

int64_t common_prefix_length(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  const auto mismatch = std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin());
  return static_cast<int64_t>(mismatch.first - a.begin());
}

PrefixStore::Match PrefixStore::longest_prefix(const std::vector<int64_t>& prompt) {
  const int64_t most = static_cast<int64_t>(prompt.size()) - 1;
  auto best = entries_.end();
  int64_t best_length = 0;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const int64_t length = std::min(common_prefix_length(it->tokens, prompt), most);
    if (length > best_length) {
      best = it;
      best_length = length;
    }
  }
  if (best == entries_.end()) return {};
  entries_.splice(entries_.end(), entries_, best);  // most recently used last
  return {&entries_.back().cache, best_length};
}

void PrefixStore::add(const std::vector<int64_t>& prompt, KVCache cache) {
  if (prompt.empty() || cache.length() < static_cast<int64_t>(prompt.size())) return;
  const auto n = static_cast<int64_t>(prompt.size());
  for (auto it = entries_.begin(); it != entries_.end();) {
    const int64_t shared = common_prefix_length(it->tokens, prompt);
    if (shared == n) return;  // an entry already starts with the whole prompt
    if (shared == static_cast<int64_t>(it->tokens.size())) {
      bytes_ -= it->bytes;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  const int64_t size = cache.bytes();
  if (size > max_bytes_) return;
  evict_to(max_bytes_ - size);
  entries_.push_back({prompt, std::move(cache), size});
  bytes_ += size;
}

void PrefixStore::evict_to(int64_t max_bytes) {
  while (!entries_.empty() && bytes_ > max_bytes) {
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
  }
}

}  // namespace psy
