// A Hugging Face decoder config.json (Llama / Mistral) as a typed, validated struct.
//
// Supported: model_type "llama" and "mistral" (architectures LlamaForCausalLM /
// MistralForCausalLM), SiLU MLP without biases, rope_scaling absent/null, "linear" or
// "dynamic" (NTK-aware, as in transformers' LlamaDynamicNTKScalingRotaryEmbedding).
// Refused with a psy::Error naming the file and field: other model types, other rope_scaling
// types (e.g. "llama3", "yarn"), attention_bias/mlp_bias true, hidden_act other than
// silu/swish, quantization_config, inconsistent sizes (hidden_size not divisible by heads
// without head_dim, heads not divisible by num_key_value_heads, ...).
// No LibTorch here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psy {

enum class RopeScalingType { None, Linear, Dynamic };

struct DecoderConfig {
  std::string model_type;  // "llama" or "mistral"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScalingType rope_scaling = RopeScalingType::None;
  double rope_scaling_factor = 1.0;
  int64_t max_position_embeddings = 2048;
  std::optional<int64_t> sliding_window;  // Mistral; absent/null = full attention
  bool tie_word_embeddings = false;
  std::string torch_dtype = "float32";  // as written: float32, bfloat16, float16
  std::vector<int64_t> eos_token_ids;   // eos_token_id may be a number or a list
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> pad_token_id;
};

// Parses config.json text; `file` names it in errors.
DecoderConfig parse_decoder_config(const std::string& json_text, const std::string& file);
// Reads DIR/config.json (or the file itself when `path` is a file).
DecoderConfig load_decoder_config(const std::string& path);
// The inverse, for writing test and benchmark checkpoints.
std::string decoder_config_to_json(const DecoderConfig& config);

}  // namespace psy
