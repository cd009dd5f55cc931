// Causal self-attention for training that keeps little for backward: a custom autograd Function
// whose forward saves only q, k, v (grouped-query: k and v never repeated per query head), its
// output and one log-sum-exp per query row, and whose backward recomputes the attention
// probabilities one block (a sample, or a whole row) at a time:
//   P = exp(S - lse), dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dO * O)),
//   dQ = dS K * scale, dK = dS^T Q * scale            (S = Q K^T * scale + mask).
// The plain kernel (attention.cpp) instead keeps softmax's [heads x L x L] probabilities of every
// layer until backward: the largest activation of a CPU training step (bench/README.md, issue 20).
// Forward equals the plain kernel's (same matmuls, softmax as exp(S - max) / sum); gradients
// equal the plain LibTorch composition's to fp32 rounding.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "libpsy/nn/attention.h"

namespace psy {

// q [B, H, T, D], k / v [B, KV, T, D] (H a multiple of KV; keys for the new tokens only, no cache).
// Every block {row, start, length} attends to itself only: causally, within the last `window`
// keys when window > 0, or, when `mask` is defined, through that additive fp32 mask [B or 1, 1, T, T]
// (its [start, start + length) square; it carries the causal rule itself). Blocks must be
// ordered and disjoint within a row. Returns [B, T, H, D] (transpose(1, 2) gives the plain kernel's
// [B, H, T, D]); positions outside every block get zeros (and no gradient).
torch::Tensor memory_efficient_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                         const std::vector<AttentionSegment>& blocks, int64_t window = 0,
                                         const torch::Tensor& mask = {});

}  // namespace psy
