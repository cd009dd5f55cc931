#include "libpsy/train/weighted_loss.h"

#include "libpsy/core/error.h"

namespace psy {

PlwNormalization parse_plw_normalization(const std::string& name) {
  if (name == "weight_sum") return PlwNormalization::WeightSum;
  if (name == "nonzero_tokens") return PlwNormalization::NonzeroTokens;
  throw Error("train.plw_normalization: " + expected_found("weight_sum or nonzero_tokens", "'" + name + "'"));
}

double loss_denominator(const torch::Tensor& label_weights, PlwNormalization norm) {
  torch::Tensor w = label_weights.slice(1, 1).to(torch::kFloat64);
  if (norm == PlwNormalization::NonzeroTokens) return w.ne(0).sum().item<double>();
  return w.sum().item<double>();
}

double step_denominator(const std::vector<torch::Tensor>& micro_batch_weights, PlwNormalization norm) {
  double total = 0;
  for (const auto& w : micro_batch_weights) total += loss_denominator(w, norm);
  return total;
}

torch::Tensor next_token_ce(const torch::Tensor& logits, const torch::Tensor& input_ids) {
  if (logits.dim() != 3 || input_ids.dim() != 2 || logits.size(0) != input_ids.size(0) ||
      logits.size(1) != input_ids.size(1))
    throw Error("next_token_ce: " + expected_found("logits [B,T,V] and ids [B,T]",
                                                  "shapes " + std::to_string(logits.dim()) + "-d and " +
                                                      std::to_string(input_ids.dim()) + "-d that do not match"));
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  if (T < 2) return torch::zeros({B, 0}, logits.options().dtype(torch::kFloat32));
  torch::Tensor pred = logits.slice(1, 0, T - 1).reshape({B * (T - 1), V});
  // Padding targets may hold any id (their weight is 0): clamped into the vocabulary for gather.
  torch::Tensor target = input_ids.slice(1, 1).reshape({B * (T - 1)}).to(torch::kLong).clamp(0, V - 1);
  return cross_entropy_rows(pred, target).view({B, T - 1});
}

torch::Tensor cross_entropy_rows(const torch::Tensor& logits, const torch::Tensor& target) {
  torch::Tensor pred = logits.to(torch::kFloat32);
  // CE = logsumexp(x) - x[target], with the sum of exponentials accumulated in fp64: LibTorch's
  // fp32 log_softmax sums 49k-150k terms in fp32, which put SmolLM2's loss 5.7e-6 (relative) off
  // the fp64 value and biased every softmax probability, hence every gradient, by as much.
  torch::Tensor peak = std::get<0>(pred.detach().max(1, /*keepdim=*/true));
  torch::Tensor sum_exp = (pred - peak).exp().sum({1}, /*keepdim=*/false, torch::kFloat64);
  torch::Tensor lse = sum_exp.log() + peak.squeeze(1).to(torch::kFloat64);
  torch::Tensor ce = lse - pred.gather(1, target.unsqueeze(1)).squeeze(1).to(torch::kFloat64);
  return ce.to(torch::kFloat32);
}

torch::Tensor weighted_ce_sum(const torch::Tensor& logits, const torch::Tensor& input_ids,
                              const torch::Tensor& label_weights) {
  torch::Tensor ce = next_token_ce(logits, input_ids);
  torch::Tensor w = label_weights.slice(1, 1).to(ce.device(), torch::kFloat32);
  // Padding targets may hold any id; zero weight must give exactly zero (no 0*inf).
  torch::Tensor contrib = torch::where(w.ne(0), w * ce, torch::zeros_like(ce));
  return contrib.sum();
}

torch::Tensor weighted_next_token_loss(const torch::Tensor& logits, const torch::Tensor& input_ids,
                                       const torch::Tensor& label_weights, double denominator) {
  torch::Tensor s = weighted_ce_sum(logits, input_ids, label_weights);
  if (!(denominator > 0)) return s * 0.0;
  return s / denominator;
}

torch::Tensor weighted_next_token_loss(const torch::Tensor& logits, const torch::Tensor& input_ids,
                                       const torch::Tensor& label_weights, PlwNormalization norm) {
  return weighted_next_token_loss(logits, input_ids, label_weights, loss_denominator(label_weights, norm));
}

}  // namespace psy
