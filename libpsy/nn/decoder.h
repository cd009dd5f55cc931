// The decoder families of hf_config.h (Llama, Mistral, Qwen2, Qwen3, GLM, GLM-4-0414) as
// torch::nn modules whose parameter names equal the Hugging Face checkpoint keys, so
// named_parameters() of a Decoder lists exactly
//   model.embed_tokens.weight
//   model.layers.{i}.input_layernorm.weight, model.layers.{i}.post_attention_layernorm.weight
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight (+ .bias where the family has one)
//   model.layers.{i}.self_attn.{q,k}_norm.weight                         (Qwen3)
//   model.layers.{i}.mlp.{gate,up,down}_proj.weight, or mlp.{gate_up,down}_proj.weight (GLM)
//   model.layers.{i}.post_self_attn_layernorm.weight, .post_mlp_layernorm.weight (GLM-4-0414)
//   model.norm.weight, lm_head.weight (absent with tie_word_embeddings: lm_head shares embed_tokens)
//   (+ <projection>.lora_A / .lora_B with adapters)
// Base weights are frozen (requires_grad = false); only LoRA parameters train.
//
// Whole forward:   logits = decoder->forward(ids, attention_mask, &cache);       // fp32 [B,T,V]
// Layer by layer (e.g. for gradient checkpointing):
//   auto ctx = decoder->context(ids, attention_mask);            // RoPE tables + mask
//   torch::Tensor h = decoder->embed(ids);
//   for (auto& layer : decoder->layers()) h = layer->forward(h, ctx);
//   torch::Tensor logits = decoder->logits(decoder->final_norm(h));
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "libpsy/io/hf_config.h"
#include "libpsy/nn/attention.h"
#include "libpsy/nn/kv_cache.h"
#include "libpsy/nn/projection.h"
#include "libpsy/nn/rms_norm.h"

namespace psy {

struct DecoderOptions {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;  // weights and activations; norms/softmax/logits in fp32
  AttentionKernel attention = AttentionKernel::Auto;
  // Decode steps on the CPU through decode_layers_cpu.h where it applies (the same results, without
  // LibTorch's per-op cost); false runs the modules (tests and benches compare the two).
  bool cpu_decode_layers = true;
};

// "fp32"/"float32", "bf16"/"bfloat16", "fp16"/"float16" -> dtype; psy::Error otherwise.
torch::ScalarType parse_model_dtype(const std::string& name);

class MLPImpl : public torch::nn::Module {
 public:
  MLPImpl(const DecoderConfig& config, const torch::TensorOptions& options);
  // down(silu(gate(x)) * up(x)); GLM: gate and up are the two halves of gate_up(x), gate first.
  torch::Tensor forward(const torch::Tensor& x);
  Projection gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  Projection gate_up_proj{nullptr};  // GLM only (then gate_proj / up_proj are null)
};
TORCH_MODULE(MLP);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const DecoderConfig& config, const torch::TensorOptions& options, int64_t index);
  // h [B, T, hidden] -> h [B, T, hidden]
  torch::Tensor forward(const torch::Tensor& h, const AttentionContext& ctx, KVCache* cache = nullptr);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  // GLM-4-0414's sandwich: normalise the attention and MLP outputs before each residual add.
  RMSNorm post_self_attn_layernorm{nullptr}, post_mlp_layernorm{nullptr};
  Attention self_attn{nullptr};
  MLP mlp{nullptr};
  int64_t index;
};
TORCH_MODULE(DecoderLayer);

// The "model." part: embeddings, layers, final norm.
class DecoderBodyImpl : public torch::nn::Module {
 public:
  DecoderBodyImpl(const DecoderConfig& config, const torch::TensorOptions& options);
  TokenEmbedding embed_tokens{nullptr};
  torch::nn::ModuleList layer_list{nullptr};  // registered as "layers"
  std::vector<DecoderLayer> layers;
  RMSNorm norm{nullptr};
};
TORCH_MODULE(DecoderBody);

class DecoderImpl : public torch::nn::Module {
 public:
  // Parameters are allocated uninitialised (torch::empty) on options.device in options.dtype;
  // use load_decoder() (load_decoder.h) or init_random_weights().
  DecoderImpl(const DecoderConfig& config, const DecoderOptions& options);

  // input_ids [B, T] int64; attention_mask [B, past + T] (1 real, 0 padding), optional;
  // cache: appended to when given (past = cache->length()); position_ids [B, T] optional,
  // default past + 0..T-1 (give them for left-padded batches). Returns fp32 logits [B, T, V].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                        KVCache* cache = nullptr, const torch::Tensor& position_ids = {});
  // The same forward, but lm_head runs on the last position only: fp32 logits [B, V] for the
  // next token (generation's prefill need not project every prompt position onto the vocabulary).
  torch::Tensor next_token_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                                  KVCache* cache = nullptr, const torch::Tensor& position_ids = {});

  // The pieces of forward(), for callers that loop over layers themselves.
  AttentionContext context(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                           int64_t past = 0, const torch::Tensor& position_ids = {}) const;
  torch::Tensor embed(const torch::Tensor& input_ids);
  std::vector<DecoderLayer>& layers() { return model->layers; }
  const std::vector<DecoderLayer>& layers() const { return model->layers; }
  torch::Tensor final_norm(const torch::Tensor& h);
  torch::Tensor logits(const torch::Tensor& normed);  // lm_head, returned in fp32

  // Every Projection with its HF module path ("model.layers.0.self_attn.q_proj", ..., "lm_head").
  std::vector<std::pair<std::string, Projection>> projections() const;

  // Fills the base weights like Hugging Face's init (normal(0, 0.02), norms 1), from torch's
  // default generator; for tests and benchmarks.
  void init_random_weights();

  const DecoderConfig& config() const { return config_; }
  const DecoderOptions& options() const { return options_; }
  // Where the embeddings (and so the inputs and returned logits) live; = options().device
  // unless place_layers() (placement.h) split the model across devices.
  torch::Device device() const { return model->embed_tokens->weight.device(); }

  DecoderBody model{nullptr};
  Projection lm_head{nullptr};

 private:
  // Embeddings and every layer; the last hidden states [B, T, hidden] before the final norm.
  torch::Tensor hidden_states(const torch::Tensor& input_ids, const torch::Tensor& attention_mask, KVCache* cache,
                              const torch::Tensor& position_ids);

  DecoderConfig config_;
  DecoderOptions options_;
};
TORCH_MODULE(Decoder);

}  // namespace psy
