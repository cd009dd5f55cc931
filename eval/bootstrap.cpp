#include "eval/bootstrap.h"

#include <algorithm>
#include <cmath>

#include "libpsy/core/error.h"
#include "libpsy/core/rng.h"

namespace psy::eval {

namespace {

Interval percentile_interval(std::vector<double>& samples, double level) {
  std::sort(samples.begin(), samples.end());
  const auto n = samples.size();
  const double tail = (1.0 - level) / 2.0;
  auto lo = static_cast<size_t>(std::floor(tail * static_cast<double>(n)));
  auto hi_excl = static_cast<size_t>(std::ceil((1.0 - tail) * static_cast<double>(n)));
  if (hi_excl == 0) hi_excl = 1;
  lo = std::min(lo, n - 1);
  hi_excl = std::min(hi_excl, n);
  return {samples[lo], samples[hi_excl - 1]};
}

void check_args(size_t n, int resamples, double level) {
  if (n == 0) throw Error("bootstrap: no values to resample", kExitFailure);
  if (resamples < 1) throw Error("bootstrap: resamples " + expected_found("at least 1", std::to_string(resamples)));
  if (!(level > 0.0 && level < 1.0)) throw Error("bootstrap: level " + expected_found("between 0 and 1", std::to_string(level)));
}

}  // namespace

double mean_of(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  double s = 0.0;
  for (double v : values) s += v;
  return s / static_cast<double>(values.size());
}

std::vector<Interval> bootstrap_mean_ci(const std::vector<const std::vector<double>*>& columns, int resamples,
                                        uint64_t seed, double level) {
  if (columns.empty()) return {};
  const size_t n = columns[0]->size();
  check_args(n, resamples, level);
  for (const auto* c : columns)
    if (c->size() != n) throw Error("bootstrap: columns of different lengths", kExitFailure);
  Rng rng(seed);
  std::vector<std::vector<double>> means(columns.size(), std::vector<double>(static_cast<size_t>(resamples)));
  std::vector<double> sums(columns.size());
  for (int r = 0; r < resamples; ++r) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(rng.uniform_below(n));
      for (size_t c = 0; c < columns.size(); ++c) sums[c] += (*columns[c])[k];
    }
    for (size_t c = 0; c < columns.size(); ++c) means[c][static_cast<size_t>(r)] = sums[c] / static_cast<double>(n);
  }
  std::vector<Interval> out;
  for (auto& m : means) out.push_back(percentile_interval(m, level));
  return out;
}

PairedBootstrap paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples,
                                 uint64_t seed, double level) {
  if (a.size() != b.size())
    throw Error("paired bootstrap: " + expected_found(std::to_string(a.size()) + " values for B", std::to_string(b.size())));
  const size_t n = a.size();
  check_args(n, resamples, level);
  PairedBootstrap res;
  res.resamples = resamples;
  res.mean_a = mean_of(a);
  res.mean_b = mean_of(b);
  res.delta = res.mean_a - res.mean_b;
  Rng rng(seed);
  std::vector<double> deltas(static_cast<size_t>(resamples));
  for (int r = 0; r < resamples; ++r) {
    double sa = 0.0, sb = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(rng.uniform_below(n));
      sa += a[k];
      sb += b[k];
    }
    const double d = sa / static_cast<double>(n) - sb / static_cast<double>(n);
    deltas[static_cast<size_t>(r)] = d;
    if (d > 0) {
      ++res.wins_a;
    } else if (d < 0) {
      ++res.wins_b;
    } else {
      ++res.ties;
    }
  }
  if (res.delta > 0) {
    res.p_value = static_cast<double>(resamples - res.wins_a) / resamples;
  } else if (res.delta < 0) {
    res.p_value = static_cast<double>(resamples - res.wins_b) / resamples;
  } else {
    res.p_value = 1.0;
  }
  res.delta_ci = percentile_interval(deltas, level);
  return res;
}

}  // namespace psy::eval
