#include "eval/distinct.h"

#include <cmath>

#include "libpsy/core/error.h"

namespace psy::eval {

DistinctCounter::DistinctCounter(int max_n, bool left_pad) : max_n_(max_n), left_pad_(left_pad) {
  if (max_n < 1 || max_n > kMaxN) throw Error("Distinct-n: n " + expected_found("1 to 4", std::to_string(max_n)));
  seen_.resize(static_cast<size_t>(max_n));
  total_.assign(static_cast<size_t>(max_n), 0);
  // The padding symbol is the token "<s>" itself, as in Python (a real "<s>" token equals it).
  pad_id_ = vocab_.id("<s>") + 1;
}

void DistinctCounter::add(const std::vector<std::string>& tokens) { add_tokens(tokens); }
void DistinctCounter::add_views(const std::vector<std::string_view>& tokens) { add_tokens(tokens); }

template <class Token>
void DistinctCounter::add_tokens(const std::vector<Token>& tokens) {
  std::vector<uint32_t> ids;
  const size_t pad = left_pad_ ? static_cast<size_t>(max_n_ - 1) : 0;
  ids.reserve(tokens.size() + pad);
  ids.assign(pad, pad_id_);
  for (const auto& t : tokens) ids.push_back(vocab_.id(t) + 1);
  for (int n = 1; n <= max_n_; ++n) {
    const auto un = static_cast<size_t>(n);
    // With padding, the n-grams of order n start n-1 tokens before the text.
    const size_t begin = left_pad_ ? pad - (un - 1) : 0;
    if (tokens.empty()) continue;  // nltk's padded ngrams of an empty sequence: none
    auto& set = seen_[un - 1];
    for (size_t i = begin; i + un <= ids.size(); ++i) {
      Key key{};
      for (size_t j = 0; j < un; ++j) key[j] = ids[i + j];
      set.insert(key);
      ++total_[un - 1];
    }
  }
}

size_t DistinctCounter::KeySet::hash(const Key& k) {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (uint32_t v : k) h = (h ^ v) * 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;  // the low bits pick the slot: mix the high ones in
  h *= 0xC4CEB9FE1A85EC53ULL;
  return static_cast<size_t>(h ^ (h >> 33));
}

void DistinctCounter::KeySet::insert(const Key& key) {
  if (2 * (size_ + 1) > slots_.size()) {
    std::vector<Key> old(slots_.empty() ? 64 : 2 * slots_.size(), Key{});
    old.swap(slots_);  // slots_: the larger empty table; old: the previous one
    const size_t mask = slots_.size() - 1;
    for (const Key& k : old) {
      if (k[0] == 0) continue;
      size_t i = hash(k) & mask;
      while (slots_[i][0] != 0) i = (i + 1) & mask;
      slots_[i] = k;
    }
  }
  const size_t mask = slots_.size() - 1;
  size_t i = hash(key) & mask;
  for (; slots_[i][0] != 0; i = (i + 1) & mask)
    if (slots_[i] == key) return;
  slots_[i] = key;
  ++size_;
}

void DistinctCounter::merge(const DistinctCounter& other) {
  if (other.max_n_ != max_n_ || other.left_pad_ != left_pad_)
    throw Error("DistinctCounter::merge: " + expected_found("order " + std::to_string(max_n_), std::to_string(other.max_n_)) +
                    " (or padding differs)",
                kExitFailure);
  // other's ids + 1 -> ours + 1
  std::vector<uint32_t> map(other.vocab_.size() + 1, 0);
  for (uint32_t id = 0; id < other.vocab_.size(); ++id) map[id + 1] = vocab_.id(other.vocab_.text(id)) + 1;
  for (size_t n = 0; n < seen_.size(); ++n) {
    other.seen_[n].for_each([&](const Key& k) {
      Key mine{};
      for (size_t j = 0; j < kMaxN; ++j) mine[j] = map[k[j]];
      seen_[n].insert(mine);
    });
    total_[n] += other.total_[n];
  }
}

size_t DistinctCounter::unique(int n) const {
  if (n < 1 || n > max_n_) throw Error("Distinct-n: n " + expected_found("1 to " + std::to_string(max_n_), std::to_string(n)));
  return seen_[static_cast<size_t>(n - 1)].size();
}

size_t DistinctCounter::total(int n) const {
  if (n < 1 || n > max_n_) throw Error("Distinct-n: n " + expected_found("1 to " + std::to_string(max_n_), std::to_string(n)));
  return total_[static_cast<size_t>(n - 1)];
}

std::optional<double> DistinctCounter::distinct(int n) const {
  const size_t t = total(n);
  if (t == 0) return std::nullopt;
  return static_cast<double>(unique(n)) / static_cast<double>(t);
}

std::optional<double> expectation_adjusted_distinct(size_t unique_unigrams, size_t total_unigrams, long vocab_size) {
  if (total_unigrams == 0 || vocab_size < 1) return std::nullopt;
  const double v = static_cast<double>(vocab_size);
  const double expected = v * (1.0 - std::pow((v - 1.0) / v, static_cast<double>(total_unigrams)));
  if (expected == 0.0) return std::nullopt;
  return static_cast<double>(unique_unigrams) / expected;
}

std::optional<Lsy641Distinct> lsy641_distinct(const DistinctCounter& counter, long vocab_size) {
  if (!counter.left_pad() || counter.max_n() < 3)
    throw Error("lsy641_distinct needs a left-padded DistinctCounter of order 3", kExitFailure);
  if (counter.total(1) == 0) return std::nullopt;
  Lsy641Distinct d;
  d.distinct1 = *counter.distinct(1);
  d.distinct2 = *counter.distinct(2);
  d.distinct3 = *counter.distinct(3);
  auto ead = expectation_adjusted_distinct(counter.unique(1), counter.total(1), vocab_size);
  if (!ead) return std::nullopt;
  d.ead = *ead;
  return d;
}

}  // namespace psy::eval
