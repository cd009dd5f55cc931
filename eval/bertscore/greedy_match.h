// bert_score's greedy matching: each token is matched to its most similar token on the other
// side (cosine of L2-normalised embeddings); P and R are weighted means of those best
// similarities, F their harmonic mean.
#pragma once
#include <vector>

#include <torch/torch.h>

namespace psy::eval {

struct MatchScore {
  double precision = 0.0, recall = 0.0, f1 = 0.0;
};

// One sentence's L2-normalised embeddings [T, H] (float32) and token weights [T] (float64).
struct WeightedEmbedding {
  torch::Tensor embedding;
  torch::Tensor weights;
};

// Divides every row by its L2 norm.
torch::Tensor normalize_rows(const torch::Tensor& embedding);

// Scores hyps[i] against refs[i] for every i, in padded batches of `batch_size` consecutive pairs,
// as bert_score does: padded similarities are 0 and take part in every max, so a token's best
// similarity is max(0, best real cosine) when the other side is shorter than the longest of its
// batch (results depend on the batch, exactly as in bert_score). P = sum(w_h best_h) / sum(w_h), likewise R; F = 2PR/(P+R) with a
// NaN F replaced by 0, as bert_score does. Empty-sentence handling is the caller's.
std::vector<MatchScore> greedy_match(const std::vector<const WeightedEmbedding*>& hyps,
                                     const std::vector<const WeightedEmbedding*>& refs, int64_t batch_size = 64);

}  // namespace psy::eval
