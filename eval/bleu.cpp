#include "eval/bleu.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <string_view>

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

using Key = std::array<uint32_t, kMaxBleuOrder>;

// Token ids shared by the hypothesis and its references (equal strings, equal ids; ids from 1).
struct PairIds {
  std::vector<uint32_t> hyp;
  std::vector<std::vector<uint32_t>> refs;
};

PairIds intern(const std::vector<std::vector<std::string>>& refs, const std::vector<std::string>& hyp) {
  std::vector<std::pair<std::string_view, uint32_t>> all;  // (token, slot)
  size_t total = hyp.size();
  for (const auto& r : refs) total += r.size();
  all.reserve(total);
  for (const auto& t : hyp) all.emplace_back(t, 0);
  for (const auto& r : refs)
    for (const auto& t : r) all.emplace_back(t, 0);
  std::vector<uint32_t> order(all.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return all[a].first < all[b].first; });
  std::vector<uint32_t> id(all.size());
  uint32_t next = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || all[order[k]].first != all[order[k - 1]].first) ++next;
    id[order[k]] = next;
  }
  PairIds out;
  size_t pos = 0;
  out.hyp.assign(id.begin(), id.begin() + static_cast<long>(hyp.size()));
  pos = hyp.size();
  for (const auto& r : refs) {
    out.refs.emplace_back(id.begin() + static_cast<long>(pos), id.begin() + static_cast<long>(pos + r.size()));
    pos += r.size();
  }
  return out;
}

// Sorted n-grams with their counts.
std::vector<std::pair<Key, int64_t>> count_ngrams(const std::vector<uint32_t>& ids, int n) {
  std::vector<Key> keys;
  if (ids.size() >= static_cast<size_t>(n)) {
    keys.reserve(ids.size() - static_cast<size_t>(n) + 1);
    for (size_t i = 0; i + static_cast<size_t>(n) <= ids.size(); ++i) {
      Key k{};
      for (int j = 0; j < n; ++j) k[static_cast<size_t>(j)] = ids[i + static_cast<size_t>(j)];
      keys.push_back(k);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<Key, int64_t>> out;
  for (const auto& k : keys) {
    if (!out.empty() && out.back().first == k) {
      ++out.back().second;
    } else {
      out.emplace_back(k, 1);
    }
  }
  return out;
}

}  // namespace

BleuCounts bleu_counts(const std::vector<std::vector<std::string>>& references, const std::vector<std::string>& hypothesis,
                       int max_order) {
  if (max_order < 1 || max_order > kMaxBleuOrder)
    throw Error("BLEU order " + expected_found("1 to 4", std::to_string(max_order)));
  BleuCounts c;
  c.max_order = max_order;
  const PairIds ids = intern(references, hypothesis);
  for (int n = 1; n <= max_order; ++n) {
    const auto hyp = count_ngrams(ids.hyp, n);
    std::vector<int64_t> max_ref(hyp.size(), 0);
    for (const auto& r : ids.refs) {
      const auto ref = count_ngrams(r, n);
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
  c.hyp_len = static_cast<int64_t>(hypothesis.size());
  // closest_ref_length: min by (|r - h|, r).
  bool first = true;
  int64_t best = 0;
  for (const auto& r : references) {
    const auto len = static_cast<int64_t>(r.size());
    if (first || std::llabs(len - c.hyp_len) < std::llabs(best - c.hyp_len) ||
        (std::llabs(len - c.hyp_len) == std::llabs(best - c.hyp_len) && len < best))
      best = len;
    first = false;
  }
  c.ref_len = best;
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
