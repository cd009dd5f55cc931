#include "eval/rouge.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace psy::eval {

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const std::vector<std::string>& longer = a.size() >= b.size() ? a : b;
  const std::vector<std::string>& shorter = a.size() >= b.size() ? b : a;
  if (shorter.empty()) return 0;
  // Compare integer ids instead of strings in the O(n*m) table (a token of `longer` that never
  // occurs in `shorter` gets id 0, which matches nothing).
  std::unordered_map<std::string_view, uint32_t> ids;
  ids.reserve(shorter.size() * 2);
  std::vector<uint32_t> s_ids(shorter.size());
  for (size_t j = 0; j < shorter.size(); ++j)
    s_ids[j] = ids.emplace(shorter[j], static_cast<uint32_t>(ids.size() + 1)).first->second;
  std::vector<size_t> row(shorter.size() + 1, 0);
  for (const auto& tok : longer) {
    auto it = ids.find(tok);
    if (it == ids.end()) continue;  // matches nothing: the row stays as it is
    const uint32_t x = it->second;
    size_t diag = 0;  // row[j-1] of the previous row
    for (size_t j = 1; j <= shorter.size(); ++j) {
      const size_t up = row[j];
      row[j] = x == s_ids[j - 1] ? diag + 1 : std::max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[shorter.size()];
}

RougeScore rouge_l(const std::vector<std::string>& reference, const std::vector<std::string>& prediction) {
  RougeScore s;
  if (reference.empty() || prediction.empty()) return s;
  const auto lcs = static_cast<double>(lcs_length(reference, prediction));
  s.precision = lcs / static_cast<double>(prediction.size());
  s.recall = lcs / static_cast<double>(reference.size());
  s.fmeasure = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}

}  // namespace psy::eval
