// Batched text generation for evaluation: prompts of different lengths are left-padded into one
// batch, the prompt runs once through the decoder filling a KV cache, then one token per step
// for every unfinished row until EOS or max_new_tokens. Greedy by default; sampling with
// temperature, top-k, top-p and a repetition penalty (Hugging Face's semantics) draws from a
// psy::Rng seeded per example, so a row's output does not depend on the rest of its batch's draws.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "libpsy/nn/decoder.h"

namespace psy {

struct GenerationSettings {
  int max_new_tokens = 256;
  bool sample = false;               // false: greedy (argmax)
  double temperature = 1.0;          // sampling only; > 0
  int top_k = 0;                     // 0 = off
  double top_p = 1.0;                // 1 = off
  double repetition_penalty = 1.0;   // 1 = off; applied to prompt and generated tokens (HF)
  std::vector<int32_t> stop_ids;     // a row ends when it produces one of these (EOS)
  int32_t pad_id = 0;
};

// "greedy" | "sample" -> settings.sample; psy::Error otherwise. Checks the ranges of the values.
void validate_generation_settings(const GenerationSettings& settings);

// Generates for every prompt (token ids, non-empty). `row_seeds[i]` seeds prompt i's sampling.
// Returns the new tokens of each row, without the stop token that ended it.
std::vector<std::vector<int32_t>> generate_batch(DecoderImpl& decoder, const std::vector<std::vector<int32_t>>& prompts,
                                                 const GenerationSettings& settings,
                                                 const std::vector<uint64_t>& row_seeds);

}  // namespace psy
