#include "libpsy/train/train_forward.h"

#include "libpsy/core/error.h"
#include "libpsy/nn/placement.h"
#include "libpsy/train/activation_checkpoint.h"
#include "libpsy/train/chunked_head_loss.h"
#include "libpsy/train/weighted_loss.h"

namespace psy {

namespace {

// Packed rows carry sample numbers above 1 in the mask.
bool holds_packed_rows(const torch::Tensor& attention_mask) {
  return attention_mask.defined() && attention_mask.numel() > 0 && attention_mask.max().item<int64_t>() > 1;
}

}  // namespace

torch::Tensor training_hidden(DecoderImpl& decoder, const torch::Tensor& input_ids,
                              const torch::Tensor& attention_mask, bool checkpoint_layers) {
  if (input_ids.dim() != 2)
    throw Error("training input_ids " + expected_found("shape [batch, tokens]", c10::str(input_ids.sizes())));
  AttentionContext ctx = holds_packed_rows(attention_mask)
                             ? make_packed_attention_context(decoder.config(), attention_mask, decoder.device(),
                                                             decoder.options().attention)
                             : decoder.context(input_ids, attention_mask);
  torch::Tensor h = decoder.embed(input_ids);
  for (auto& layer : decoder.layers()) {
    h = follow_layer_device(h, ctx, *layer);  // layer split (nn/placement.h): no-op on one device
    if (checkpoint_layers) {
      DecoderLayer l = layer;  // held by value: backward runs after this function returns
      h = checkpointed([l, ctx](const torch::Tensor& x) mutable { return l->forward(x, ctx); }, h);
    } else {
      h = layer->forward(h, ctx);
    }
  }
  return decoder.final_norm(h.to(decoder.model->norm->weight.device()));
}

torch::Tensor training_forward(DecoderImpl& decoder, const torch::Tensor& input_ids,
                               const torch::Tensor& attention_mask, bool checkpoint_layers) {
  const torch::Device first = decoder.device();
  return decoder.logits(training_hidden(decoder, input_ids, attention_mask, checkpoint_layers)).to(first);
}

torch::Tensor training_loss(DecoderImpl& decoder, const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                            const torch::Tensor& label_weights, double denominator, bool checkpoint_layers,
                            int64_t chunk_tokens) {
  if (chunk_tokens <= 0) {
    torch::Tensor logits = training_forward(decoder, input_ids, attention_mask, checkpoint_layers);
    return weighted_next_token_loss(logits, input_ids, label_weights.to(logits.device()), denominator);
  }
  torch::Tensor h = training_hidden(decoder, input_ids, attention_mask, checkpoint_layers);
  torch::Tensor s = chunked_head_weighted_ce_sum(decoder.lm_head, h, input_ids, label_weights, chunk_tokens)
                        .to(decoder.device());
  if (!(denominator > 0)) return s * 0.0;
  return s / denominator;
}

}  // namespace psy
