// Memory estimates per device for the ways psy can run a recipe (`psy plan`): one device,
// data parallel, layer split, NF4 (QLoRA), NF4 + data parallel. LibTorch-free arithmetic on
// the model's config.json shapes.
//
// Counted per device:
//   weights      base parameters in the model dtype (NF4: decoder-layer linears at 4.5 or ~4.127
//                bits per weight, embeddings / norms / lm_head in the model dtype)
//   lora         adapter parameters (fp32) + their gradients (fp32)
//   optimizer    AdamW moments, 2 x fp32 per trainable parameter
//   activations  what autograd keeps for the backward pass of one micro-batch, with and without
//                gradient checkpointing (then: each layer's input, plus one layer recomputed),
//                plus fp32 logits, their log-softmax and gradient. Attention: fused
//                (scaled_dot_product_attention, LibTorch >= 2.0) keeps one log-sum-exp per head
//                and token; eager (LibTorch 1.13) keeps the [heads, T, T] probabilities. LoRA on a
//                GPU computes in the activation dtype, on a CPU in fp32 (libpsy/nn/projection.cpp)
//   kv_cache     keys and values for evaluation: eval batch x (max_seq_len + max_new_tokens)
//   overhead     runtime: 0.75 GB per CUDA device (context, allocator slack), 0.3 GB on CPU;
//                data parallel adds two gradient buckets (2 x 25 MiB)
// Estimates, not guarantees: allocator caching and fragmentation come on top on GPUs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "libpsy/io/hf_config.h"

namespace psy::dist {

struct MemoryPlanInput {
  DecoderConfig model;
  int weight_bytes = 2;                 // bytes per base weight (model.dtype)
  int compute_bytes = 2;                // activation dtype (train.precision)
  bool double_quant = true;             // for the NF4 rows
  bool full_finetune = false;           // train.mode full: every weight trains
  int lora_r = 8;
  std::vector<std::string> lora_targets = {"q_proj", "k_proj", "v_proj", "o_proj"};
  double lora_dropout = 0.0;
  int micro_batch = 1;
  int64_t seq_len = 4096;
  bool gradient_checkpointing = false;  // which activation figure the total uses
  int eval_batch = 8;
  int64_t eval_len = 4096 + 256;
  bool cuda = true;                     // overhead per device; LoRA compute dtype
  bool fused_attention = true;          // scaled_dot_product_attention (no probabilities kept)
};

struct DeviceMemory {
  int64_t weights = 0, lora = 0, optimizer = 0, activations_checkpointed = 0, activations_full = 0, kv_cache = 0,
          overhead = 0;
  bool checkpointing = false;
  int64_t train_total() const;  // with the recipe's checkpointing choice
  int64_t eval_total() const;   // weights + adapter + KV cache + overhead
  int64_t peak() const { return train_total() > eval_total() ? train_total() : eval_total(); }
};

struct PlanRow {
  std::string mode;       // "single", "data x2", "layers x2", "nf4", "nf4 + data x2"
  int devices = 1;
  DeviceMemory worst;     // the device that needs the most
  bool fits = false;
  std::string note;
};

// Parameter counts of the model (base) and of the LoRA adapter for the targets.
int64_t base_parameter_count(const DecoderConfig& model);
int64_t lora_parameter_count(const DecoderConfig& model, int r, const std::vector<std::string>& targets);
// Base weight bytes with the decoder-layer linears in NF4.
int64_t nf4_base_bytes(const DecoderConfig& model, int other_weight_bytes, bool double_quant);

// One device's figures for a single-device run (no split).
DeviceMemory estimate_single(const MemoryPlanInput& in, bool nf4);

// Every way of running on `devices` devices of `device_bytes` each.
std::vector<PlanRow> plan_memory(const MemoryPlanInput& in, int devices, int64_t device_bytes);

// "2x24GB", "1x80GB", "4x24GiB", "24GB" -> count and bytes (GB = 1e9, GiB = 2^30).
void parse_devices_spec(const std::string& spec, int* count, int64_t* bytes);

// Built-in shapes for planning without the weights (as the families' config.json give them):
// "mistral-7b" (v0.2), "mistral-7b-v0.3", "llama-2-7b", "llama-2-13b", "llama-3.1-8b",
// "qwen2.5-7b", "qwen3-8b", "glm-4-9b" (GLM-4-9B-chat-hf). Throws psy::Error listing them for
// an unknown name.
DecoderConfig known_model_shape(const std::string& name);
// Those names, comma-separated, for help and error texts.
std::string known_model_shape_names();

// The table `psy plan` prints.
std::string format_plan(const std::vector<PlanRow>& rows, int64_t device_bytes);
std::string format_bytes(int64_t bytes);

}  // namespace psy::dist
