// lm_head + prompt-loss-weighted cross-entropy without the [tokens x vocab] logits.
//
// The targets of non-zero weight are gathered (the others skip lm_head entirely) and run through
// lm_head in chunks of at most `chunk_tokens` rows. Each chunk's logits give its loss and, at
// once, its gradient (w * (softmax - onehot), the logsumexp's sum of exponentials accumulated in
// fp64 as weighted_loss.h's cross_entropy_rows), which is pushed back through lm_head -- LoRA on
// lm_head and its dropout included -- before the next chunk. Peak memory holds one chunk's
// logits, never all of them and never their gradient. A custom autograd function returns the
// stored gradients scaled by the incoming one in backward: the hidden states' gradient to the
// graph, lm_head's trainable parameters' gradients added to their .grad.
#pragma once
#include <cstdint>

#include <torch/torch.h>

#include "libpsy/nn/projection.h"

namespace psy {

// Rows per chunk so that one chunk's fp32 logits hold about 2^24 values (64 MB): 512 rows at
// vocab 32k, 341 at SmolLM2's 49k, 110 at Qwen's 152k (never below 64 or above 4096).
int64_t auto_chunk_tokens(int64_t vocab_size);

// sum_t w_t CE_t over next-token targets as weighted_ce_sum (weighted_loss.h): hidden [B, T, H]
// final-normed states, input_ids and label_weights [B, T] (weights aligned as labels,
// weights[:, 0] unused). chunk_tokens <= 0 picks auto_chunk_tokens. A differentiable fp32 scalar
// (gradients to `hidden` and to lm_head's parameters that require grad); 0 when no target has
// weight.
torch::Tensor chunked_head_weighted_ce_sum(const Projection& head, const torch::Tensor& hidden,
                                           const torch::Tensor& input_ids, const torch::Tensor& label_weights,
                                           int64_t chunk_tokens = 0);

}  // namespace psy
