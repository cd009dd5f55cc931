#include "eval/rouge.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace psy::eval {

size_t lcs_length_ids(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  const std::vector<uint32_t>& longer = a.size() >= b.size() ? a : b;
  const std::vector<uint32_t>& shorter = a.size() >= b.size() ? b : a;
  if (shorter.empty()) return 0;
  std::vector<uint32_t> present(shorter);  // a token of `longer` not in here leaves the row as it is
  std::sort(present.begin(), present.end());
  std::vector<size_t> row(shorter.size() + 1, 0);
  for (const uint32_t x : longer) {
    if (!std::binary_search(present.begin(), present.end(), x)) continue;
    size_t diag = 0;  // row[j-1] of the previous row
    for (size_t j = 1; j <= shorter.size(); ++j) {
      const size_t up = row[j];
      row[j] = x == shorter[j - 1] ? diag + 1 : std::max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[shorter.size()];
}

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // Compare integer ids instead of strings in the O(n*m) table: tokens of `b` get ids from 1, and a
  // token of `a` that never occurs in `b` gets 0, which matches nothing.
  std::unordered_map<std::string_view, uint32_t> ids;
  ids.reserve(b.size() * 2);
  std::vector<uint32_t> b_ids(b.size()), a_ids(a.size());
  for (size_t j = 0; j < b.size(); ++j) b_ids[j] = ids.emplace(b[j], static_cast<uint32_t>(ids.size() + 1)).first->second;
  for (size_t j = 0; j < a.size(); ++j) {
    auto it = ids.find(a[j]);
    a_ids[j] = it == ids.end() ? 0 : it->second;
  }
  return lcs_length_ids(a_ids, b_ids);
}

namespace {

RougeScore from_lcs(size_t lcs_len, size_t reference_len, size_t prediction_len) {
  RougeScore s;
  const auto lcs = static_cast<double>(lcs_len);
  s.precision = lcs / static_cast<double>(prediction_len);
  s.recall = lcs / static_cast<double>(reference_len);
  s.fmeasure = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}

}  // namespace

RougeScore rouge_l(const std::vector<std::string>& reference, const std::vector<std::string>& prediction) {
  if (reference.empty() || prediction.empty()) return {};
  return from_lcs(lcs_length(reference, prediction), reference.size(), prediction.size());
}

RougeScore rouge_l_ids(const std::vector<uint32_t>& reference, const std::vector<uint32_t>& prediction) {
  if (reference.empty() || prediction.empty()) return {};
  return from_lcs(lcs_length_ids(reference, prediction), reference.size(), prediction.size());
}

}  // namespace psy::eval
