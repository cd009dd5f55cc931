#include "libpsy/report/significance.h"

#include <vector>

#include "eval/bootstrap.h"

namespace psy::report {

PairedTest paired_bootstrap(const std::map<std::string, double>& a, const std::map<std::string, double>& b,
                            int resamples, uint64_t seed) {
  std::vector<double> va, vb;
  for (const auto& [id, x] : a) {
    auto it = b.find(id);
    if (it == b.end()) continue;
    va.push_back(x);
    vb.push_back(it->second);
  }
  PairedTest t;
  t.pairs = va.size();
  if (va.empty() || resamples <= 0) return t;
  auto r = eval::paired_bootstrap(va, vb, resamples, seed);
  t.mean_a = r.mean_a;
  t.mean_b = r.mean_b;
  t.p_value = r.p_value;
  return t;
}

}  // namespace psy::report
