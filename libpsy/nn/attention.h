// Self-attention of the Llama/Mistral decoder: rotate-half RoPE (computed in fp32), grouped-query
// attention, causal + padding + sliding-window masks, softmax in fp32. Two kernels: LibTorch's
// fused scaled_dot_product_attention (LibTorch >= 2.0) and a plain matmul/softmax version.
#pragma once
#include <cstdint>

#include <torch/torch.h>

#include "libpsy/io/hf_config.h"
#include "libpsy/nn/kv_cache.h"
#include "libpsy/nn/projection.h"

namespace psy {

enum class AttentionKernel { Auto, Plain, Fused };

// True when this LibTorch has at::scaled_dot_product_attention.
bool fused_attention_available();

// What every layer of one forward shares: RoPE tables for the new positions and the mask.
struct AttentionContext {
  torch::Tensor cos, sin;  // [B, 1, T, head_dim] fp32
  // Additive mask [B, 1, T, past + T] in fp32 (0 = attend, lowest float = masked); undefined
  // when the attention is purely causal over the new tokens only (no cache, no padding, no
  // window in reach), which the fused kernel runs without a mask.
  torch::Tensor mask;
  int64_t past = 0;  // positions already in the cache
  AttentionKernel kernel = AttentionKernel::Auto;
};

// inv_freq [head_dim/2] fp32 for the config (rope_theta; dynamic NTK scaling uses seq_len).
torch::Tensor rope_inverse_frequencies(const DecoderConfig& config, int64_t seq_len, torch::Device device);

// Builds the context for new tokens [B, T] at `positions` [B, T] (int64, RoPE positions),
// with `attention_mask` [B, past + T] (1 = real token, 0 = padding; undefined = all real).
AttentionContext make_attention_context(const DecoderConfig& config, const torch::Tensor& positions,
                                        const torch::Tensor& attention_mask, int64_t past, torch::Device device,
                                        AttentionKernel kernel);

// Applies rotate-half RoPE to x [B, heads, T, head_dim] (in fp32, returned in x's dtype).
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// softmax(q k^T / sqrt(d) + mask) v for q [B, H, T, D], k/v [B, KV, S, D]; returns [B, H, T, D].
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const AttentionContext& ctx);

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const DecoderConfig& config, const torch::TensorOptions& options);
  // x [B, T, hidden] -> [B, T, hidden]. With a cache, appends this layer's keys/values.
  torch::Tensor forward(const torch::Tensor& x, const AttentionContext& ctx, KVCache* cache = nullptr,
                        int64_t layer_index = 0);

  Projection q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  int64_t heads, kv_heads, head_dim;
};
TORCH_MODULE(Attention);

}  // namespace psy
