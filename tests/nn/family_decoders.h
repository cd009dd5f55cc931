// Small random decoders of the families (hf_config.h) for tests that compare psy with itself:
// config.json text of a given size per family, and a decoder with random weights whose norms and
// biases sit away from 1 and 0 (so a missing norm or bias shows).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "libpsy/nn/decoder.h"

namespace psy_test {

// The sizes: vocabulary, hidden, intermediate and head width; 3 layers, 4 query heads over 2 KV heads.
struct FamilySize {
  int64_t vocab = 40, hidden = 32, intermediate = 48, head_dim = 8;
};

// config.json of `model_type` at `size`, with `extra` (",\"key\":value..." entries) after the sizes.
inline std::string family_config_json(const std::string& model_type, const std::string& extra = "",
                                      const FamilySize& size = {}) {
  return R"({"model_type":")" + model_type + R"(","vocab_size":)" + std::to_string(size.vocab) +
         R"(,"hidden_size":)" + std::to_string(size.hidden) + R"(,"intermediate_size":)" +
         std::to_string(size.intermediate) + R"(,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":)" +
         std::to_string(size.head_dim) + R"(,"rms_norm_eps":1e-5)" + extra + "}";
}

// Random weights from seed 5 (the same decoder for the same config and options), in eval mode.
inline psy::Decoder random_family_decoder(const psy::DecoderConfig& c, const psy::DecoderOptions& o = {}) {
  torch::manual_seed(5);
  psy::Decoder d(c, o);
  d->init_random_weights();
  torch::NoGradGuard no_grad;
  for (auto& p : d->named_parameters()) {
    if (p.key().find("norm") != std::string::npos) p.value().add_(torch::randn(p.value().sizes()) * 0.1);
    if (p.key().find(".bias") != std::string::npos) p.value().copy_(torch::randn(p.value().sizes()) * 0.1);
  }
  d->eval();
  return d;
}

}  // namespace psy_test
