// config.json of a Hugging Face BERT / RoBERTa encoder: the fields the forward pass needs.
// No LibTorch.
#pragma once
#include <cstdint>
#include <string>

namespace psy::eval {

struct EncoderConfig {
  std::string model_type;  // "bert", "roberta", "xlm-roberta", "camembert" (RoBERTa positions)
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";

  // RoBERTa-family position ids: padding_idx + cumulative count of non-pad tokens.
  bool roberta_positions() const;
  // Longest input (ids incl. specials) the position table allows: max_position_embeddings,
  // less padding_idx + 1 for RoBERTa positions.
  int64_t max_input_length() const;
};

// Reads `path` (config.json); throws psy::Error naming the file and field for missing or
// inconsistent values (hidden size not divisible by heads, unsupported activation or
// position embedding type).
EncoderConfig read_encoder_config(const std::string& path);

}  // namespace psy::eval
