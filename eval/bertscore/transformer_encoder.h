// BERT / RoBERTa encoders (Hugging Face layout safetensors, with or without the `bert.` /
// `roberta.` prefix; pooler and MLM heads are ignored) in LibTorch, inference only:
// word + position + token-type(0) embeddings and LayerNorm, then post-LayerNorm layers with
// softmax attention (padded keys masked) and a GELU feed-forward. hidden_states[0] is the
// embedding output, hidden_states[k] the output of layer k (1-based), as transformers returns.
#pragma once
#include <string>
#include <vector>

#include <torch/torch.h>

#include "eval/bertscore/encoder_config.h"

namespace psy::eval {

// "fp32" | "bf16" | "fp16" -> dtype; throws psy::Error for anything else.
torch::ScalarType parse_encoder_dtype(const std::string& name);

// The encoder's input for sequences ids[order[begin..end)], right-padded with `pad_id` to the
// length of the first (callers sort `order` longest first): ids [B, T] and mask [B, T] (1 = token).
struct PaddedBatch {
  torch::Tensor ids, mask;
};
PaddedBatch right_padded_batch(const std::vector<std::vector<int64_t>>& ids, const std::vector<size_t>& order,
                               size_t begin, size_t end, int64_t pad_id);

class TransformerEncoder {
 public:
  // Loads config.json and the weights of layers 1..num_layers (all when num_layers < 0) from
  // `model_dir` (model.safetensors, a sharded index, or the folder's one .safetensors file).
  TransformerEncoder(const std::string& model_dir, int64_t num_layers, torch::Device device,
                     torch::ScalarType dtype = torch::kFloat32);

  // hidden_states[num_layers()] for `ids` [B, T] (int64) and `mask` [B, T] (1 = token, 0 = pad),
  // in the encoder's dtype on its device.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask) const;
  // hidden_states[0..num_layers()].
  std::vector<torch::Tensor> all_hidden_states(const torch::Tensor& ids, const torch::Tensor& mask) const;

  const EncoderConfig& config() const { return config_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  torch::Device device() const { return device_; }
  torch::ScalarType dtype() const { return dtype_; }

 private:
  struct Layer {
    torch::Tensor q_w, q_b, k_w, k_b, v_w, v_b;  // only while loading; then fused into qkv_*
    torch::Tensor qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b;
    torch::Tensor in_w, in_b, out_w, out_b, ln2_w, ln2_b;
  };
  torch::Tensor embed(const torch::Tensor& ids) const;
  torch::Tensor run_layer(const Layer& layer, const torch::Tensor& x, const torch::Tensor& additive_mask) const;
  torch::Tensor additive_mask(const torch::Tensor& mask) const;

  EncoderConfig config_;
  torch::Device device_;
  torch::ScalarType dtype_;
  torch::Tensor word_, position_, token_type_row_, emb_ln_w_, emb_ln_b_;
  std::vector<Layer> layers_;
};

}  // namespace psy::eval
