// Bootstrap statistics over per-example metric values, seeded with psy::Rng so that a seed gives
// the same intervals on every platform.
//  * bootstrap_mean_ci: percentile interval of the mean (resample n values with replacement,
//    `resamples` times; one set of resampled indices is shared by all columns).
//  * paired_bootstrap: Koehn (2004)'s paired test of two systems scored on the same examples:
//    p = share of resamples in which the system with the higher full-sample mean is not ahead.
#pragma once
#include <cstdint>
#include <vector>

namespace psy::eval {

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

// One interval per column (all columns must have the same length n > 0). level: e.g. 0.95.
std::vector<Interval> bootstrap_mean_ci(const std::vector<const std::vector<double>*>& columns, int resamples,
                                        uint64_t seed, double level = 0.95);

struct PairedBootstrap {
  double mean_a = 0.0, mean_b = 0.0;
  double delta = 0.0;      // mean_a - mean_b
  Interval delta_ci;       // percentile interval of the resampled delta
  double p_value = 1.0;    // share of resamples where the leader is not ahead (1 when the means tie)
  int resamples = 0;
  int wins_a = 0, wins_b = 0, ties = 0;
};

PairedBootstrap paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int resamples,
                                 uint64_t seed, double level = 0.95);

// Python's sum(values) / len(values) (sequential, in order); 0 for an empty list.
double mean_of(const std::vector<double>& values);

}  // namespace psy::eval
