#include "libpsy/data/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "libpsy/core/error.h"
#include "libpsy/core/rng.h"

namespace psy {

SessionSplit split_sessions(size_t n, double test_fraction, uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) {
    throw Error("test fraction: " + expected_found("a number in [0, 1)", std::to_string(test_fraction)));
  }
  size_t n_test = static_cast<size_t>(std::ceil(test_fraction * static_cast<double>(n) - 1e-9));
  if (test_fraction > 0.0 && n >= 2) n_test = std::clamp<size_t>(n_test, 1, n - 1);
  if (n < 2) n_test = 0;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  Rng rng(seed);
  shuffle_in_place(order, rng);
  SessionSplit out;
  out.test.assign(order.begin(), order.begin() + static_cast<long>(n_test));
  out.train.assign(order.begin() + static_cast<long>(n_test), order.end());
  std::sort(out.test.begin(), out.test.end());
  std::sort(out.train.begin(), out.train.end());
  return out;
}

void split_sessions(const std::vector<Session>& all, double test_fraction, uint64_t seed,
                    std::vector<Session>& train, std::vector<Session>& test) {
  SessionSplit s = split_sessions(all.size(), test_fraction, seed);
  train.clear();
  test.clear();
  for (size_t i : s.train) train.push_back(all[i]);
  for (size_t i : s.test) test.push_back(all[i]);
}

}  // namespace psy
