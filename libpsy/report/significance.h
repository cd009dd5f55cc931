// Paired bootstrap significance test between two systems scored on the same examples.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace psy::report {

struct PairedTest {
  size_t pairs = 0;        // examples present in both
  double mean_a = 0, mean_b = 0;
  double p_value = 1;
};

// Pairs per-example scores by id and runs psy::eval::paired_bootstrap (Koehn 2004) on the pairs:
// p = share of resamples in which the system with the higher mean is not ahead.
PairedTest paired_bootstrap(const std::map<std::string, double>& a, const std::map<std::string, double>& b,
                            int resamples, uint64_t seed);

}  // namespace psy::report
