// The training forward pass of a Decoder over a collated batch (collate.h), optionally with
// every decoder layer checkpointed (activation_checkpoint.h: its activations are dropped after
// the forward and recomputed in backward, trading ~1/3 more compute for memory).
//
// Packed rows (Batch::attention_mask holding sample numbers 1, 2, ... per row) run padding-free:
// positions restart at 0 at every sample and attention never crosses a sample boundary
// (attention.h's segments), so a packed batch gives the loss and gradients of its samples
// unpacked. A mask of 0/1 runs as an ordinary right-padded batch.
#pragma once
#include <cstdint>

#include <torch/torch.h>

#include "libpsy/nn/decoder.h"

namespace psy {

// input_ids / attention_mask [B, T] (right padding). Returns the final-normed hidden states
// [B, T, hidden] (on the final norm's device), before lm_head.
torch::Tensor training_hidden(DecoderImpl& decoder, const torch::Tensor& input_ids,
                              const torch::Tensor& attention_mask, bool checkpoint_layers);

// Returns fp32 logits [B, T, V] (lm_head over every position; training_loss avoids them).
torch::Tensor training_forward(DecoderImpl& decoder, const torch::Tensor& input_ids,
                               const torch::Tensor& attention_mask, bool checkpoint_layers);

// The micro-batch's weighted next-token loss sum_t w_t CE_t / denominator (weighted_loss.h),
// with lm_head and the cross-entropy run in chunks of `chunk_tokens` targets and only on targets
// of non-zero weight (chunked_head_loss.h): the [tokens x vocab] logits are never built whole.
// chunk_tokens <= 0 runs the plain path (training_forward + weighted_next_token_loss).
// A denominator <= 0 gives a zero loss.
torch::Tensor training_loss(DecoderImpl& decoder, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                            const torch::Tensor& label_weights, double denominator, bool checkpoint_layers,
                            int64_t chunk_tokens = 1024);

}  // namespace psy
