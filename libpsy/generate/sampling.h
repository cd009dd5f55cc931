// Choosing the next token from logits: repetition penalty, temperature, top-k, top-p, greedy.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace psy {

struct SamplingOptions {
  bool do_sample = false;          // false = greedy (argmax)
  double temperature = 1.0;        // > 0
  int64_t top_k = 0;               // 0 = off
  double top_p = 1.0;              // 1 = off; keeps the smallest set of tokens with probability >= top_p
  double repetition_penalty = 1.0; // 1 = off; as in CTRL/HF: seen tokens' logits /p if > 0, *p if < 0
};

// Applies the repetition penalty in place to logits [B, V] for the tokens in seen[b].
void apply_repetition_penalty(torch::Tensor& logits, const std::vector<std::vector<int64_t>>& seen, double penalty);

// Masks logits [B, V] (fp32) outside top-k / top-p with -inf, after dividing by temperature.
torch::Tensor filter_logits(const torch::Tensor& logits, const SamplingOptions& options);

// Next token per row [B] (int64, CPU). Sampling draws from `generator` (CPU) for reproducibility.
torch::Tensor choose_next_tokens(const torch::Tensor& logits, const SamplingOptions& options,
                                 at::Generator& generator);

}  // namespace psy
