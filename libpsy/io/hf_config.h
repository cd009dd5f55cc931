// A Hugging Face decoder config.json as a typed, validated struct, for the families psy runs:
//
//   model_type  architecture        what differs from Llama (as transformers' modeling code has it)
//   llama       LlamaForCausalLM    - (attention_bias: q/k/v/o biases, mlp_bias: MLP biases; Llama-3.x
//                                   "llama3" RoPE scaling; tie_word_embeddings)
//   mistral     MistralForCausalLM  sliding_window on every layer (v0.2/v0.3 carry null); no biases
//   qwen2       Qwen2ForCausalLM    q/k/v biases always (o_proj none); sliding window only with
//                                   use_sliding_window on layers >= max_window_layers (layer_types)
//   qwen3       Qwen3ForCausalLM    per-head RMSNorm q_norm/k_norm before RoPE; head_dim decoupled
//                                   (default 128); attention_bias: q/k/v/o biases; layer_types
//   glm         GlmForCausalLM      partial rotary (partial_rotary_factor, default 0.5) on interleaved
//                                   pairs; fused mlp.gate_up_proj; attention_bias: q/k/v biases
//   glm4        Glm4ForCausalLM     as glm plus post_self_attn_layernorm and post_mlp_layernorm
//
// RoPE comes either as v4's top-level rope_theta + rope_scaling, or as transformers v5's
// rope_parameters (rope_type, rope_theta, factor, ...). Rope types: default, linear, dynamic
// (NTK-aware), llama3. Everything else (other model types or rope types, hidden_act other than
// silu, quantization_config, unknown rope keys, inconsistent sizes) is refused by parse with ONE
// psy::Error line naming the file, the key and what is supported. No LibTorch here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psy {

enum class RopeScalingType { None, Linear, Dynamic, Llama3 };

struct DecoderConfig {
  std::string model_type;  // llama, mistral, qwen2, qwen3, glm, glm4
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads (qwen3, glm*: 128)
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScalingType rope_scaling = RopeScalingType::None;
  double rope_scaling_factor = 1.0;
  // "llama3" scaling (Llama-3.1+): frequencies between the two wavelength bounds are blended.
  double rope_low_freq_factor = 1.0;
  double rope_high_freq_factor = 4.0;
  int64_t rope_original_max_position_embeddings = 8192;
  // RoPE rotates the first head_dim * partial_rotary_factor dims of each head (GLM: 0.5).
  double partial_rotary_factor = 1.0;
  // GLM: rotated pairs are (0,1), (2,3), ... instead of Llama's (i, i + rotary_dim/2).
  bool rope_interleaved = false;
  int64_t max_position_embeddings = 2048;
  std::optional<int64_t> sliding_window;  // absent/null = full attention
  // Which layers use the window when sliding_window is set; empty = every layer.
  std::vector<bool> sliding_window_layers;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;   // q_proj, k_proj, v_proj carry a bias
  bool o_bias = false;     // o_proj carries a bias
  bool mlp_bias = false;   // gate/up/down (or gate_up) carry a bias
  bool qk_norm = false;    // Qwen3: self_attn.q_norm / k_norm, RMSNorm over head_dim
  bool fused_gate_up = false;   // GLM: mlp.gate_up_proj [2 * intermediate, hidden] (gate first)
  bool sandwich_norms = false;  // GLM-4-0414: post_self_attn_layernorm, post_mlp_layernorm
  std::string torch_dtype = "float32";  // as written: float32, bfloat16, float16
  std::vector<int64_t> eos_token_ids;   // eos_token_id may be a number or a list
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> pad_token_id;

  // Dims of each head that RoPE rotates (even).
  int64_t rotary_dim() const;
  // True when layer `index` attends within sliding_window.
  bool layer_uses_window(int64_t index) const;
};

// The supported model types and their architectures, "llama (LlamaForCausalLM), ...".
std::string supported_decoder_families();

// Sets the family's fixed traits (qwen2's q/k/v bias, qwen3's q/k norms, GLM's fused MLP,
// interleaved partial rotary, glm4's extra norms) on a config whose model_type is set; for
// code that builds configs by hand (tests, benchmarks, psy plan's shapes). psy::Error for an
// unsupported model_type.
void apply_family_traits(DecoderConfig& config);

// Parses config.json text; `file` names it in errors.
DecoderConfig parse_decoder_config(const std::string& json_text, const std::string& file);
// Reads DIR/config.json (or the file itself when `path` is a file).
DecoderConfig load_decoder_config(const std::string& path);
// The inverse (v4 form: rope_theta + rope_scaling), for writing test, merged and benchmark
// checkpoints; parse_decoder_config(decoder_config_to_json(c)) gives c back.
std::string decoder_config_to_json(const DecoderConfig& config);

}  // namespace psy
