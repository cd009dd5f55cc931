#include "eval/distinct.h"

#include <cmath>

#include "libpsy/core/error.h"

namespace psy::eval {

DistinctCounter::DistinctCounter(int max_n, bool left_pad) : max_n_(max_n), left_pad_(left_pad) {
  if (max_n < 1 || max_n > kMaxN) throw Error("Distinct-n: n " + expected_found("1 to 4", std::to_string(max_n)));
  seen_.resize(static_cast<size_t>(max_n));
  total_.assign(static_cast<size_t>(max_n), 0);
  // The padding symbol is the token "<s>" itself, as in Python (a real "<s>" token equals it).
  pad_id_ = vocab_.id("<s>");
}

void DistinctCounter::add(const std::vector<std::string>& tokens) { add_tokens(tokens); }
void DistinctCounter::add_views(const std::vector<std::string_view>& tokens) { add_tokens(tokens); }

template <class Token>
void DistinctCounter::add_tokens(const std::vector<Token>& tokens) {
  std::vector<uint32_t> ids;
  const size_t pad = left_pad_ ? static_cast<size_t>(max_n_ - 1) : 0;
  ids.reserve(tokens.size() + pad);
  ids.assign(pad, pad_id_);
  for (const auto& t : tokens) ids.push_back(vocab_.id(t));
  for (int n = 1; n <= max_n_; ++n) {
    const auto un = static_cast<size_t>(n);
    // With padding, the n-grams of order n start n-1 tokens before the text.
    const size_t begin = left_pad_ ? pad - (un - 1) : 0;
    if (tokens.empty()) continue;  // nltk's padded ngrams of an empty sequence: none
    auto& set = seen_[un - 1];
    for (size_t i = begin; i + un <= ids.size(); ++i) {
      std::array<uint32_t, kMaxN> key{};
      for (size_t j = 0; j < un; ++j) key[j] = ids[i + j];
      set.insert(key);
      ++total_[un - 1];
    }
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
