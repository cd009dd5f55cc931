#include "eval/bertscore/idf_weights.h"

#include <cmath>
#include <unordered_set>

namespace psy::eval {

double IdfWeights::weight(int64_t id) const {
  const auto it = idf.find(id);
  return it == idf.end() ? default_weight : it->second;
}

IdfWeights compute_idf(const std::vector<std::vector<int64_t>>& reference_ids, int64_t cls_id, int64_t sep_id) {
  std::unordered_map<int64_t, size_t> df;
  for (const auto& ids : reference_ids) {
    const std::unordered_set<int64_t> unique(ids.begin(), ids.end());
    for (int64_t id : unique) ++df[id];
  }
  IdfWeights w;
  w.num_docs = reference_ids.size();
  const double n1 = static_cast<double>(w.num_docs) + 1.0;
  w.default_weight = std::log(n1);
  for (const auto& [id, count] : df) w.idf[id] = std::log(n1 / (static_cast<double>(count) + 1.0));
  w.idf[cls_id] = 0.0;
  w.idf[sep_id] = 0.0;
  return w;
}

std::vector<double> token_weights(const std::vector<int64_t>& ids, const IdfWeights* idf, int64_t cls_id, int64_t sep_id) {
  std::vector<double> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    if (id == cls_id || id == sep_id) {
      out.push_back(0.0);
    } else {
      out.push_back(idf ? idf->weight(id) : 1.0);
    }
  }
  return out;
}

}  // namespace psy::eval
