// Attention for the few query rows of a decode step on a CPU with AVX-512: softmax(q k^T / sqrt(d)
// + mask) v in one pass per (sequence, key/value head), its query heads sharing the loaded keys
// (the cache is read in runs of 16 KB, each run by every query row of the pair while it is in L1),
// split across the threads (libpsy/core/spinning_pool.h). LibTorch runs it as a dozen ops with a
// batched matrix product per head group (a small OpenBLAS call each, about 1,400 per 8-row step of
// SmolLM2). Rounding follows attend_plain (attention.cpp) in the model's dtype: fp32 throughout, or
// for bf16 the scores and the probabilities rounded to bf16 as its bf16 matrix products round them;
// sums run in another order (fp32 rounding), and e^x is a polynomial within about 1 ulp, as in
// LibTorch's vectorised softmax. Keys go 16 at a time (one reduction for 16 products) and are
// prefetched into L2 ahead of use. On the Intel Xeon, the 30 layers of an 8-row step of SmolLM2
// over 250 and 400 cached positions (2 threads, alternating, quiet) take 6.5-7.5 and 10.1-13.5 ms;
// one query row at a time with glibc's expf, 9.3-9.9 and 15.4-17.4.
#pragma once

#include <torch/torch.h>
#include <c10/util/BFloat16.h>

namespace psy {

// True for CPU q [B, H, T, D], k/v [B, KV, S, D] of one dtype (fp32 or bf16) with unit stride in D,
// H a multiple of KV, at most 256 query rows (B * H * T), nothing recording a gradient, a mask that
// is undefined or additive fp32 [B, 1, T, S], and AVX-512F on this CPU.
bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& mask);

// [B, H, T, D] in q's dtype (a transposed view of [B, T, H, D] storage, so the caller's
// transpose(1, 2).reshape to [B, T, H * D] copies nothing). Without a mask, query t sees keys
// 0 .. S - T + t (causal, the new tokens last).
torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& mask);

// The same on raw buffers (decode_layers_cpu.h): q [B, H, T, D] contiguous; key j of sequence b,
// key/value head h at k + b * k_stride[0] + h * k_stride[1] + j * k_stride[2] (v alike), `keys` of
// them; mask [B, 1, T, keys] contiguous fp32 or null (causal); out [B, T, H, D]. The conditions of
// decode_attention_applies hold for the caller to check. T float or c10::BFloat16.
// The widest head the kernel takes (one query row's output accumulators stay in registers); the
// width must also be a multiple of 16.
constexpr int64_t kDecodeAttentionMaxHeadDim = 256;

struct DecodeAttentionShape {
  int64_t batch, heads, tokens, dim, kv_heads, keys;
  int64_t k_stride[3], v_stride[3];  // batch, head, key
};
template <typename T>
void decode_attention_raw(const DecodeAttentionShape& shape, const T* q, const T* k, const T* v, const float* mask,
                          T* out);

}  // namespace psy
