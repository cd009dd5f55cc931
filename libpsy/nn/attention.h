// Self-attention of the decoder families (hf_config.h): RoPE computed in fp32 (Llama's rotate-half,
// or GLM's interleaved pairs on the first rotary_dim dims), optional q/k/v/o biases and Qwen3's
// per-head q/k RMSNorm before RoPE, grouped-query attention, causal + padding + sliding-window
// masks, softmax in fp32. Two kernels: LibTorch's fused scaled_dot_product_attention (LibTorch >=
// 2.0) and a plain matmul/softmax version. Where the plain one would run for CPU training (autograd
// on, no cache), memory_efficient_attention.h runs instead: the same results without keeping the
// attention probabilities for backward.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "libpsy/io/hf_config.h"
#include "libpsy/nn/kv_cache.h"
#include "libpsy/nn/projection.h"
#include "libpsy/nn/rms_norm.h"

namespace psy {

enum class AttentionKernel { Auto, Plain, Fused };

// True when this LibTorch has at::scaled_dot_product_attention.
bool fused_attention_available();

// One sample inside a packed row (padding-free packing): tokens [start, start + length) of batch
// row `row` attend causally to each other and to nothing else.
struct AttentionSegment {
  int64_t row = 0, start = 0, length = 0;
};

// What every layer of one forward shares: RoPE tables for the new positions and the mask.
struct AttentionContext {
  torch::Tensor cos, sin;  // [B, 1, T, rotary_dim] fp32, laid out for the family's rotation
  // Additive mask [B, 1, T, past + T] in fp32 (0 = attend, lowest float = masked); undefined
  // when the attention is purely causal over the new tokens only (no cache, no padding, no
  // window in reach), which the fused kernel runs without a mask.
  torch::Tensor mask;
  // The same with the sliding window applied, for the layers that use one; undefined when no
  // layer does or the window excludes nothing (those layers then use `mask`).
  torch::Tensor window_mask;
  int64_t past = 0;  // positions already in the cache
  AttentionKernel kernel = AttentionKernel::Auto;
  // Packed rows (make_packed_attention_context): when non-empty, attention runs per segment
  // (block-diagonal causal; `mask` is unused), so its cost is sum(length^2), not T^2, and
  // tokens outside every segment (padding) get a zero output.
  std::vector<AttentionSegment> segments;
  // The sliding window for segments in the layers that use one (0 = none).
  int64_t segment_window = 0;
  // Set by AttentionImpl::forward for a windowed layer: attend() applies segment_window.
  bool window_active = false;
};

// The segments of packed rows from segment numbers [B, T] (int, 1, 2, ... per sample in a row,
// 0 = padding): every run of equal non-zero numbers is one segment.
std::vector<AttentionSegment> segments_from_ids(const torch::Tensor& segment_ids);

// Position ids [B, T] int64 restarting at 0 at every segment's first token (0 on padding).
torch::Tensor segment_positions(const std::vector<AttentionSegment>& segments, int64_t batch, int64_t tokens);

// The context of packed rows without a cache: RoPE at positions restarting per segment and
// block-diagonal causal attention (no [T, T] mask is built). segment_ids as segments_from_ids.
AttentionContext make_packed_attention_context(const DecoderConfig& config, const torch::Tensor& segment_ids,
                                               torch::Device device, AttentionKernel kernel);

// inv_freq [rotary_dim/2] fp32 for the config (rope_theta; linear scaling is applied to positions;
// dynamic NTK scaling uses seq_len; llama3 blends low/high frequencies as transformers does).
torch::Tensor rope_inverse_frequencies(const DecoderConfig& config, int64_t seq_len, torch::Device device);

// Builds the context for new tokens [B, T] at `positions` [B, T] (int64, RoPE positions),
// with `attention_mask` [B, past + T] (1 = real token, 0 = padding; undefined = all real).
AttentionContext make_attention_context(const DecoderConfig& config, const torch::Tensor& positions,
                                        const torch::Tensor& attention_mask, int64_t past, torch::Device device,
                                        AttentionKernel kernel);

// Applies RoPE to the first cos.size(-1) dims of x [B, heads, T, head_dim] (in fp32, returned in
// x's dtype): rotate-half pairs (i, i + rot/2), or with `interleaved` pairs (2i, 2i + 1) as GLM.
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                         bool interleaved = false);

// softmax(q k^T / sqrt(d) + mask) v for q [B, H, T, D], k/v [B, KV, S, D]; returns [B, H, T, D].
// With ctx.segments: per segment (q, k, v from the same packed rows, S = T).
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const AttentionContext& ctx);

class AttentionImpl : public torch::nn::Module {
 public:
  // `layer_index` decides whether this layer uses the sliding window (config.layer_uses_window).
  AttentionImpl(const DecoderConfig& config, const torch::TensorOptions& options, int64_t layer_index = 0);
  // x [B, T, hidden] -> [B, T, hidden]. With a cache, appends this layer's keys/values.
  torch::Tensor forward(const torch::Tensor& x, const AttentionContext& ctx, KVCache* cache = nullptr,
                        int64_t layer_index = 0);

  Projection q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_norm{nullptr}, k_norm{nullptr};  // Qwen3 only (registered as self_attn.q_norm / k_norm)
  int64_t heads, kv_heads, head_dim;
  bool rope_interleaved = false;
  bool windowed = false;
};
TORCH_MODULE(Attention);

}  // namespace psy
