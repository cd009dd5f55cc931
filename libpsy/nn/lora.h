// LoRA on a Decoder: which projections get adapters, seeded PEFT initialisation, and the
// trainable parameters of a run (LoRA mode or full fine-tuning).
//
// Targets name the last component of a projection's module path (q_proj, k_proj, v_proj,
// o_proj, gate_proj, up_proj, down_proj, lm_head), or "all-linear": every projection except
// the output layer lm_head (PEFT's meaning). Every target must match at least one projection.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "libpsy/nn/decoder.h"

namespace psy {

struct LoraSpec {
  int64_t r = 8;
  double alpha = 16;
  double dropout = 0.0;
  bool rslora = false;
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj"};
};

// alpha / r, or alpha / sqrt(r) with rsLoRA.
double lora_scaling(const LoraSpec& spec);

// The module paths the targets select, in the decoder's order. Throws psy::Error for a target
// that matches nothing (listing the projection names available) or r < 1.
std::vector<std::string> lora_target_paths(const DecoderImpl& decoder, const std::vector<std::string>& targets);

// Adds fresh adapters (A Kaiming-uniform, B zero) to the selected projections. A is drawn from a
// generator seeded with `seed` in the decoder's projection order, so the same seed gives the
// same adapter; torch's default generator is left as it was. Returns the adapted paths.
std::vector<std::string> inject_lora(DecoderImpl& decoder, const LoraSpec& spec, uint64_t seed);

// Every LoRA tensor as (PEFT key, parameter), lora_A before lora_B, in projection order.
std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(const DecoderImpl& decoder);

// Full fine-tuning: makes every base parameter trainable (requires_grad) and returns them by
// Hugging Face name. The weights should be fp32 for this (mixed precision casts activations).
std::vector<std::pair<std::string, torch::Tensor>> enable_full_training(DecoderImpl& decoder);

// Parameters that would get gradients, by name; for counting ("trainable: 4.2M of 7.2B").
int64_t count_parameters(const std::vector<std::pair<std::string, torch::Tensor>>& params);

}  // namespace psy
