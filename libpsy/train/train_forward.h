// The training forward pass of a Decoder: logits for a padded batch, optionally with every
// decoder layer checkpointed (activation_checkpoint.h: its activations are dropped after the
// forward and recomputed in backward, trading ~1/3 more compute for memory).
#pragma once
#include <torch/torch.h>

#include "libpsy/nn/decoder.h"

namespace psy {

// input_ids / attention_mask [B, T] (right padding). Returns fp32 logits [B, T, V].
torch::Tensor training_forward(DecoderImpl& decoder, const torch::Tensor& input_ids,
                               const torch::Tensor& attention_mask, bool checkpoint_layers);

}  // namespace psy
