// The decoder layers of one decode step (one new token per sequence) on the CPU, on buffers made once
// per step. The module path (DecoderLayerImpl::forward) spells a layer as about 40 LibTorch calls
// (views, transposes, fresh outputs, casts, small adds); in an 8-row step of SmolLM2 their dispatch
// was about 15% of the main thread's time (perf), while the second thread waited. Here the same
// kernels (few_rows_matmul, decode_elementwise's RMSNorm and RoPE, decode_attention) run on raw
// pointers, q/k/v in one fork-join and gate/up in another; LibTorch runs only SiLU * up and the LoRA
// branches, through the same calls as the module path. Every result equals the module path's bit for
// bit (tests/nn/test_decode_layers_cpu.cpp). Through the modules a step of SmolLM2 took 1.05-1.10x as
// long in fp32 and 1.13-1.20x in bf16 (bench/README.md, "A decode step's layers on raw buffers").
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "libpsy/nn/attention.h"
#include "libpsy/nn/kv_cache.h"

namespace psy {

class DecoderImpl;

// True when decode_layers_cpu can run this step: h [B, 1, hidden] on the CPU in fp32 or bf16 with
// gradients off, at most 16 sequences, a cache holding B rows, a Llama-like family (Llama, Mistral,
// Qwen2, Qwen3: rotate-half RoPE over the whole head, separate gate and up projections, no sandwich
// norms), every weight on the CPU in h's dtype and unquantised, the mask (if any) additive fp32
// [B, 1, 1, cached + 1], and this CPU with the few-rows and decode-attention kernels (AVX-512F).
bool decode_layers_cpu_applies(const DecoderImpl& decoder, const torch::Tensor& h, const AttentionContext& ctx,
                               const KVCache* cache);

// Every layer on h, each appending its key and value to the cache; the last hidden states [B, 1, hidden].
torch::Tensor decode_layers_cpu(DecoderImpl& decoder, const torch::Tensor& h, const AttentionContext& ctx,
                                KVCache& cache);

// Decode steps run through decode_layers_cpu in this process so far (tests and benches ask).
int64_t decode_layers_cpu_steps();

}  // namespace psy
