// One hand-built tiny decoder for tests and benchmarks (random weights, no files), instead of a
// config spelled out field by field in each of them. TinyDecoderShape holds the fields those
// configs set; everything else keeps DecoderConfig's defaults. Header-only (LibTorch).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "libpsy/io/hf_config.h"
#include "libpsy/nn/decoder.h"

namespace psy::test {

struct TinyDecoderShape {
  std::string model_type = "llama";
  int64_t vocab_size = 40;
  int64_t hidden_size = 32;
  int64_t intermediate_size = 48;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  int64_t head_dim = 8;
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  std::vector<int64_t> eos_token_ids;

  DecoderConfig config() const {
    DecoderConfig c;
    c.model_type = model_type;
    c.vocab_size = vocab_size;
    c.hidden_size = hidden_size;
    c.intermediate_size = intermediate_size;
    c.num_hidden_layers = num_hidden_layers;
    c.num_attention_heads = num_attention_heads;
    c.num_key_value_heads = num_key_value_heads;
    c.head_dim = head_dim;
    c.max_position_embeddings = max_position_embeddings;
    c.rms_norm_eps = rms_norm_eps;
    c.eos_token_ids = eos_token_ids;
    return c;
  }
};

// A Llama-proportioned shape of a given width, for memory and speed probes: heads of 64 dims
// (hidden_size / 64 of them, no grouping), an MLP of 8/3 the width.
inline TinyDecoderShape llama_shape_of_width(int64_t hidden_size, int64_t layers, int64_t vocab_size) {
  TinyDecoderShape s;
  s.vocab_size = vocab_size;
  s.hidden_size = hidden_size;
  s.intermediate_size = hidden_size * 8 / 3;
  s.num_hidden_layers = layers;
  s.num_attention_heads = hidden_size / 64;
  s.num_key_value_heads = s.num_attention_heads;
  s.head_dim = 64;
  return s;
}

// A decoder of `config` with random weights drawn after torch::manual_seed(seed), on the CPU.
inline Decoder tiny_random_decoder(const DecoderConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  Decoder d(config, DecoderOptions{});
  d->init_random_weights();
  return d;
}

}  // namespace psy::test
