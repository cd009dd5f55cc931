#include "libpsy/train/train_forward.h"

#include "libpsy/nn/placement.h"
#include "libpsy/train/activation_checkpoint.h"

namespace psy {

torch::Tensor training_forward(DecoderImpl& decoder, const torch::Tensor& input_ids,
                               const torch::Tensor& attention_mask, bool checkpoint_layers) {
  if (!checkpoint_layers) return decoder.forward(input_ids, attention_mask);
  AttentionContext ctx = decoder.context(input_ids, attention_mask);
  torch::Tensor h = decoder.embed(input_ids);
  for (auto& layer : decoder.layers()) {
    DecoderLayer l = layer;  // held by value: backward runs after this function returns
    h = follow_layer_device(h, ctx, *l);  // layer split (nn/placement.h): no-op on one device
    h = checkpointed([l, ctx](const torch::Tensor& x) mutable { return l->forward(x, ctx); }, h);
  }
  return decoder.logits(decoder.final_norm(h));
}

}  // namespace psy
