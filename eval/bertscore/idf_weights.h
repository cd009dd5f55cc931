// bert_score's token weights, computed from token ids (no LibTorch).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace psy::eval {

// idf[id] = ln((N + 1) / (df(id) + 1)), N = number of references (duplicates and empty ones
// count), df(id) = number of references whose ids contain id; absent ids get ln(N + 1).
// As bert_score does, the cls and sep ids get weight 0.
struct IdfWeights {
  size_t num_docs = 0;
  double default_weight = 0.0;
  std::unordered_map<int64_t, double> idf;

  double weight(int64_t id) const;
};

IdfWeights compute_idf(const std::vector<std::vector<int64_t>>& reference_ids, int64_t cls_id, int64_t sep_id);

// Per-token weights of one sentence: idf weights when `idf` is given, else 1 for every id
// except cls and sep (0).
std::vector<double> token_weights(const std::vector<int64_t>& ids, const IdfWeights* idf, int64_t cls_id, int64_t sep_id);

}  // namespace psy::eval
