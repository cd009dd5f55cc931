// Prompt-loss-weighted next-token cross-entropy (DESIGN.md, golden/llama/README.md).
//
// Weights are aligned with the labels: weights[b][j] is the weight of token ids[b][j] as a
// target, predicted from the logits at position j-1; weights[b][0] is ignored (token 0 is
// never a target). Padding has weight 0.
//
//   loss = sum_t w_t * CE_t / D
//
// with D = the sum of the weights (PlwNormalization::WeightSum, the default) or the count of
// targets with non-zero weight (NonzeroTokens). Under gradient accumulation (and data
// parallelism) D is the denominator of the WHOLE optimizer step: compute it over every
// micro-batch first (step_denominator), then each micro-batch contributes
// weighted_ce_sum / D, so the accumulated gradients equal those of one big batch.
#pragma once
#include <string>
#include <vector>

#include <torch/torch.h>

namespace psy {

enum class PlwNormalization { WeightSum, NonzeroTokens };

// "weight_sum" | "nonzero_tokens"; throws psy::Error otherwise.
PlwNormalization parse_plw_normalization(const std::string& name);

// The denominator contribution of one micro-batch (weights [B,T], aligned as labels).
double loss_denominator(const torch::Tensor& label_weights, PlwNormalization norm);

// sum over the micro-batches' contributions.
double step_denominator(const std::vector<torch::Tensor>& micro_batch_weights, PlwNormalization norm);

// Per-target cross-entropy [B, T-1] in fp32: CE of ids[:, 1:] under logits[:, :-1].
torch::Tensor next_token_ce(const torch::Tensor& logits, const torch::Tensor& input_ids);

// Row-wise cross-entropy [N] in fp32 of logits [N, V] (any float dtype) against targets [N]
// (int64 inside [0, V)): logsumexp with the sum of exponentials accumulated in fp64, minus the
// target's logit. Differentiable.
torch::Tensor cross_entropy_rows(const torch::Tensor& logits, const torch::Tensor& target);

// sum_t w_t * CE_t over the micro-batch (a differentiable fp32 scalar).
torch::Tensor weighted_ce_sum(const torch::Tensor& logits, const torch::Tensor& input_ids,
                              const torch::Tensor& label_weights);

// weighted_ce_sum / denominator. A denominator <= 0 gives a zero loss (nothing to learn).
torch::Tensor weighted_next_token_loss(const torch::Tensor& logits, const torch::Tensor& input_ids,
                                       const torch::Tensor& label_weights, double denominator);

// Convenience: the loss of one batch normalised by its own denominator.
torch::Tensor weighted_next_token_loss(const torch::Tensor& logits, const torch::Tensor& input_ids,
                                       const torch::Tensor& label_weights,
                                       PlwNormalization norm = PlwNormalization::WeightSum);

}  // namespace psy
