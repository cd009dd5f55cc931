#include "eval/bertscore/greedy_match.h"

#include <algorithm>
#include <cmath>

#include "libpsy/core/error.h"

namespace psy::eval {

namespace {

// Stacks [T_i, H] tensors into [B, T_max, H] (zero rows below each) and their weights into [B, T_max].
std::pair<torch::Tensor, torch::Tensor> pad_batch(const std::vector<const WeightedEmbedding*>& items, size_t begin,
                                                  size_t end, torch::Tensor& valid) {
  int64_t t_max = 1;
  for (size_t i = begin; i < end; ++i) t_max = std::max(t_max, items[i]->embedding.size(0));
  const auto& first = items[begin]->embedding;
  const int64_t b = static_cast<int64_t>(end - begin), h = first.size(1);
  auto emb = torch::zeros({b, t_max, h}, first.options());
  auto w = torch::zeros({b, t_max}, items[begin]->weights.options());
  valid = torch::zeros({b, t_max}, first.options().dtype(torch::kBool));
  for (size_t i = begin; i < end; ++i) {
    const int64_t t = items[i]->embedding.size(0), row = static_cast<int64_t>(i - begin);
    emb[row].narrow(0, 0, t).copy_(items[i]->embedding);
    w[row].narrow(0, 0, t).copy_(items[i]->weights);
    valid[row].narrow(0, 0, t).fill_(true);
  }
  return {emb, w};
}

}  // namespace

torch::Tensor normalize_rows(const torch::Tensor& embedding) {
  return embedding / embedding.norm(2, -1, true);
}

std::vector<MatchScore> greedy_match(const std::vector<const WeightedEmbedding*>& hyps,
                                     const std::vector<const WeightedEmbedding*>& refs, int64_t batch_size) {
  if (hyps.size() != refs.size())
    throw Error("greedy_match: " + expected_found(std::to_string(hyps.size()) + " references", std::to_string(refs.size())), kExitFailure);
  torch::NoGradGuard no_grad;
  std::vector<MatchScore> out(hyps.size());
  const size_t step = static_cast<size_t>(std::max<int64_t>(1, batch_size));
  for (size_t begin = 0; begin < hyps.size(); begin += step) {
    const size_t end = std::min(hyps.size(), begin + step);
    torch::Tensor hyp_valid, ref_valid;
    const auto [h, hw] = pad_batch(hyps, begin, end, hyp_valid);
    const auto [r, rw] = pad_batch(refs, begin, end, ref_valid);
    auto sim = torch::bmm(h, r.transpose(1, 2));  // [B, Th, Tr]
    // As bert_score (sim * masks): padded rows and columns are 0, so inside a batch a token whose
    // best real cosine is negative scores 0 when the other side is shorter than the batch's longest
    // (real encoders do give such tokens: all-MiniLM-L6-v2 on short hypotheses).
    const auto pair_valid = hyp_valid.unsqueeze(2).logical_and(ref_valid.unsqueeze(1));
    sim = sim.masked_fill(pair_valid.logical_not(), 0.0f);
    const auto best_h = std::get<0>(sim.max(2)).to(torch::kFloat64).masked_fill(hyp_valid.logical_not(), 0.0);
    const auto best_r = std::get<0>(sim.max(1)).to(torch::kFloat64).masked_fill(ref_valid.logical_not(), 0.0);
    const auto p = ((best_h * hw).sum(1) / hw.sum(1)).cpu();
    const auto rr = ((best_r * rw).sum(1) / rw.sum(1)).cpu();
    const auto pa = p.accessor<double, 1>();
    const auto ra = rr.accessor<double, 1>();
    for (size_t i = begin; i < end; ++i) {
      MatchScore& s = out[i];
      s.precision = pa[static_cast<int64_t>(i - begin)];
      s.recall = ra[static_cast<int64_t>(i - begin)];
      s.f1 = 2 * s.precision * s.recall / (s.precision + s.recall);
      if (std::isnan(s.f1)) s.f1 = 0.0;
    }
  }
  return out;
}

}  // namespace psy::eval
