#include "eval/bleu.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <unordered_map>

#include "eval/exact_sum.h"
#include "libpsy/core/error.h"

namespace psy::eval {

BleuSmoothing parse_bleu_smoothing(const std::string& name) {
  if (name == "none" || name == "method0") return BleuSmoothing::none;
  if (name == "method1") return BleuSmoothing::method1;
  if (name == "method2") return BleuSmoothing::method2;
  if (name == "method3") return BleuSmoothing::method3;
  if (name == "method4") return BleuSmoothing::method4;
  throw Error("unknown BLEU smoothing: " + expected_found("none, method1, method2, method3 or method4", "'" + name + "'"));
}

std::string to_string(BleuSmoothing s) {
  switch (s) {
    case BleuSmoothing::none: return "none";
    case BleuSmoothing::method1: return "method1";
    case BleuSmoothing::method2: return "method2";
    case BleuSmoothing::method3: return "method3";
    case BleuSmoothing::method4: return "method4";
  }
  return "none";
}

BleuCounts& BleuCounts::operator+=(const BleuCounts& o) {
  for (int i = 0; i < kMaxBleuOrder; ++i) {
    numerator[static_cast<size_t>(i)] += o.numerator[static_cast<size_t>(i)];
    denominator[static_cast<size_t>(i)] += o.denominator[static_cast<size_t>(i)];
  }
  hyp_len += o.hyp_len;
  ref_len += o.ref_len;
  return *this;
}

namespace {

// Token ids shared by the hypothesis and its references (equal strings, equal ids; ids from 1).
struct PairIds {
  std::vector<uint32_t> hyp;
  std::vector<std::vector<uint32_t>> refs;
  uint32_t distinct = 0;
};

PairIds intern(const std::vector<std::vector<std::string>>& refs, const std::vector<std::string>& hyp) {
  size_t total = hyp.size();
  for (const auto& r : refs) total += r.size();
  std::unordered_map<std::string_view, uint32_t> ids;
  ids.reserve(total * 2);
  PairIds out;
  auto id_of = [&](const std::string& t) {
    auto [it, fresh] = ids.emplace(t, static_cast<uint32_t>(ids.size() + 1));
    return it->second;
  };
  out.hyp.reserve(hyp.size());
  for (const auto& t : hyp) out.hyp.push_back(id_of(t));
  for (const auto& r : refs) {
    out.refs.emplace_back();
    out.refs.back().reserve(r.size());
    for (const auto& t : r) out.refs.back().push_back(id_of(t));
  }
  out.distinct = static_cast<uint32_t>(ids.size());
  return out;
}

// An n-gram as one sortable key: packed into 64 bits when every id fits in 16 bits (the usual
// case: fewer than 65536 distinct tokens in a pair), otherwise an array of ids.
using WideKey = std::array<uint32_t, kMaxBleuOrder>;

inline void make_key(const uint32_t* p, int n, uint64_t& key) {
  uint64_t k = 0;
  for (int j = 0; j < n; ++j) k = (k << 16) | p[j];
  key = k;
}
inline void make_key(const uint32_t* p, int n, WideKey& key) {
  key = WideKey{};
  for (int j = 0; j < n; ++j) key[static_cast<size_t>(j)] = p[j];
}

// Sorted n-grams with their counts.
template <typename Key>
std::vector<std::pair<Key, int64_t>> count_ngrams(const std::vector<uint32_t>& ids, int n) {
  std::vector<Key> keys;
  if (ids.size() >= static_cast<size_t>(n)) {
    keys.resize(ids.size() - static_cast<size_t>(n) + 1);
    for (size_t i = 0; i < keys.size(); ++i) make_key(ids.data() + i, n, keys[i]);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<Key, int64_t>> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    if (!out.empty() && out.back().first == k) {
      ++out.back().second;
    } else {
      out.emplace_back(k, 1);
    }
  }
  return out;
}

template <typename Key>
void clipped_counts(const PairIds& ids, int max_order, BleuCounts& c) {
  for (int n = 1; n <= max_order; ++n) {
    const auto hyp = count_ngrams<Key>(ids.hyp, n);
    std::vector<int64_t> max_ref(hyp.size(), 0);
    for (const auto& r : ids.refs) {
      const auto ref = count_ngrams<Key>(r, n);
      size_t j = 0;
      for (size_t i = 0; i < hyp.size(); ++i) {
        while (j < ref.size() && ref[j].first < hyp[i].first) ++j;
        if (j < ref.size() && ref[j].first == hyp[i].first) max_ref[i] = std::max(max_ref[i], ref[j].second);
      }
    }
    int64_t num = 0, total = 0;
    for (size_t i = 0; i < hyp.size(); ++i) {
      num += std::min(hyp[i].second, max_ref[i]);
      total += hyp[i].second;
    }
    c.numerator[static_cast<size_t>(n - 1)] = num;
    c.denominator[static_cast<size_t>(n - 1)] = std::max<int64_t>(1, total);
  }
}

// Ids that fit 16 bits for any pair: each token's rank among the pair's distinct ids, from 1.
PairIds dense(const std::vector<uint32_t>& ref, const std::vector<uint32_t>& hyp) {
  std::vector<uint32_t> seen;
  seen.reserve(ref.size() + hyp.size());
  seen.insert(seen.end(), hyp.begin(), hyp.end());
  seen.insert(seen.end(), ref.begin(), ref.end());
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  auto rank = [&](uint32_t id) {
    return static_cast<uint32_t>(std::lower_bound(seen.begin(), seen.end(), id) - seen.begin()) + 1;
  };
  PairIds out;
  out.hyp.reserve(hyp.size());
  for (uint32_t id : hyp) out.hyp.push_back(rank(id));
  out.refs.emplace_back();
  out.refs.back().reserve(ref.size());
  for (uint32_t id : ref) out.refs.back().push_back(rank(id));
  out.distinct = static_cast<uint32_t>(seen.size());
  return out;
}

void check_order(int max_order) {
  if (max_order < 1 || max_order > kMaxBleuOrder)
    throw Error("BLEU order " + expected_found("1 to 4", std::to_string(max_order)));
}

// Clipped counts and lengths from interned ids; ref_lengths in the order of the references.
BleuCounts counts_of(const PairIds& ids, const std::vector<int64_t>& ref_lengths, int max_order) {
  BleuCounts c;
  c.max_order = max_order;
  if (ids.distinct < 0xFFFF) {
    clipped_counts<uint64_t>(ids, max_order, c);
  } else {
    clipped_counts<WideKey>(ids, max_order, c);
  }
  c.hyp_len = static_cast<int64_t>(ids.hyp.size());
  // closest_ref_length: min by (|r - h|, r).
  bool first = true;
  int64_t best = 0;
  for (const int64_t len : ref_lengths) {
    if (first || std::llabs(len - c.hyp_len) < std::llabs(best - c.hyp_len) ||
        (std::llabs(len - c.hyp_len) == std::llabs(best - c.hyp_len) && len < best))
      best = len;
    first = false;
  }
  c.ref_len = best;
  return c;
}

}  // namespace

BleuCounts bleu_counts(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                       int max_order) {
  check_order(max_order);
  std::vector<int64_t> lengths;
  for (const auto& r : references) lengths.push_back(static_cast<int64_t>(r.size()));
  return counts_of(intern(references, hypothesis), lengths, max_order);
}

BleuCounts bleu_counts_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& hypothesis,
                           int max_order) {
  check_order(max_order);
  // Ids below 0xFFFF are packed as they are; larger ones are first made dense for the pair.
  uint32_t max_id = 0;
  for (const uint32_t id : hypothesis) max_id = std::max(max_id, id);
  for (const uint32_t id : reference) max_id = std::max(max_id, id);
  if (max_id >= 0xFFFF) {
    const PairIds ids = dense(reference, hypothesis);
    return counts_of(ids, {static_cast<int64_t>(reference.size())}, max_order);
  }
  BleuCounts c;
  c.max_order = max_order;
  c.hyp_len = static_cast<int64_t>(hypothesis.size());
  c.ref_len = static_cast<int64_t>(reference.size());
  // Per order: the reference's n-gram counts in a small open-addressing table, then every
  // hypothesis n-gram takes one of its kind if any is left: sum over n-grams of
  // min(count in hypothesis, count in reference), NLTK's clipped count.
  struct Slot {
    uint64_t key;
    int64_t left;  // reference occurrences not yet taken; the slot is free when order != n
    int order;
  };
  size_t slots = 16;
  while (slots < 2 * reference.size()) slots *= 2;
  std::vector<Slot> table(slots, Slot{0, 0, 0});
  const size_t mask = slots - 1;
  auto slot_of = [&](uint64_t key, int n) -> Slot& {
    size_t k = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (table[k].order == n && table[k].key != key) k = (k + 1) & mask;
    return table[k];
  };
  for (int n = 1; n <= max_order; ++n) {
    const auto un = static_cast<size_t>(n);
    if (n > 1)  // free the previous order's slots
      for (Slot& sl : table) sl.order = 0;
    for (size_t i = 0; i + un <= reference.size(); ++i) {
      uint64_t key;
      make_key(reference.data() + i, n, key);
      Slot& sl = slot_of(key, n);
      if (sl.order != n) sl = Slot{key, 0, n};
      ++sl.left;
    }
    int64_t num = 0, total = 0;
    for (size_t i = 0; i + un <= hypothesis.size(); ++i) {
      uint64_t key;
      make_key(hypothesis.data() + i, n, key);
      ++total;
      Slot& sl = slot_of(key, n);
      if (sl.order == n && sl.left > 0) {
        --sl.left;
        ++num;
      }
    }
    c.numerator[static_cast<size_t>(n - 1)] = num;
    c.denominator[static_cast<size_t>(n - 1)] = std::max<int64_t>(1, total);
  }
  return c;
}

std::vector<double> bleu_weights(int n) {
  if (n < 1 || n > kMaxBleuOrder) throw Error("BLEU order " + expected_found("1 to 4", std::to_string(n)));
  return std::vector<double>(static_cast<size_t>(n), 1.0 / n);
}

double bleu_from_counts(const BleuCounts& c, const std::vector<double>& weights, BleuSmoothing smoothing) {
  const size_t orders = weights.size();
  if (orders == 0 || orders > static_cast<size_t>(c.max_order))
    throw Error("BLEU weights: " + expected_found("1 to " + std::to_string(c.max_order) + " weights",
                                                  std::to_string(orders)));
  if (c.numerator[0] == 0) return 0.0;
  double bp;
  if (c.hyp_len > c.ref_len) {
    bp = 1.0;
  } else if (c.hyp_len == 0) {
    bp = 0.0;
  } else {
    bp = std::exp(1.0 - static_cast<double>(c.ref_len) / static_cast<double>(c.hyp_len));
  }
  std::vector<double> p(orders);
  int incvnt = 1;
  for (size_t i = 0; i < orders; ++i) {
    const int64_t num = c.numerator[i], den = c.denominator[i];
    const double frac = static_cast<double>(num) / static_cast<double>(den);
    switch (smoothing) {
      case BleuSmoothing::none:
        p[i] = num != 0 ? frac : DBL_MIN;
        break;
      case BleuSmoothing::method1:
        p[i] = num != 0 ? frac : (static_cast<double>(num) + 0.1) / static_cast<double>(den);
        break;
      case BleuSmoothing::method2:
        p[i] = i == 0 ? frac : static_cast<double>(num + 1) / static_cast<double>(den + 1);
        break;
      case BleuSmoothing::method3:
        if (num == 0) {
          p[i] = 1.0 / static_cast<double>((int64_t{1} << incvnt) * den);
          ++incvnt;
        } else {
          p[i] = frac;
        }
        break;
      case BleuSmoothing::method4:
        if (num == 0 && c.hyp_len > 1) {
          const double numer =
              1.0 / (static_cast<double>((int64_t{1} << incvnt) * 5) / std::log(static_cast<double>(c.hyp_len)));
          p[i] = numer / static_cast<double>(den);
          ++incvnt;
        } else {
          p[i] = frac;
        }
        break;
    }
  }
  std::vector<double> terms(orders);
  for (size_t i = 0; i < orders; ++i) {
    if (p[i] <= 0.0) return 0.0;  // log(0) raises in Python; only reachable with unsmoothed zero counts
    terms[i] = weights[i] * std::log(p[i]);
  }
  return bp * std::exp(fsum(terms));
}

double sentence_bleu(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                     const std::vector<double>& weights, BleuSmoothing smoothing) {
  return bleu_from_counts(bleu_counts(references, hypothesis, static_cast<int>(weights.size())), weights, smoothing);
}

double corpus_bleu(const std::vector<std::vector<std::vector<std::string>>>& references,
                   const std::vector<std::vector<std::string>>& hypotheses, const std::vector<double>& weights,
                   BleuSmoothing smoothing) {
  if (references.size() != hypotheses.size())
    throw Error("corpus_bleu: " + expected_found(std::to_string(hypotheses.size()) + " reference lists",
                                                 std::to_string(references.size())));
  BleuCounts total;
  total.max_order = static_cast<int>(weights.size());
  for (size_t i = 0; i < hypotheses.size(); ++i)
    total += bleu_counts(references[i], hypotheses[i], static_cast<int>(weights.size()));
  return bleu_from_counts(total, weights, smoothing);
}

}  // namespace psy::eval
