#include "libpsy/nn/decoder.h"

#include "libpsy/core/error.h"
#include "libpsy/nn/decode_layers_cpu.h"
#include "libpsy/nn/placement.h"
#include "libpsy/nn/swiglu.h"

namespace psy {

torch::ScalarType parse_model_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return torch::kFloat32;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  if (name == "fp16" || name == "float16") return torch::kFloat16;
  throw Error("unknown model dtype '" + name + "' (valid: fp32, bf16, fp16)");
}

MLPImpl::MLPImpl(const DecoderConfig& c, const torch::TensorOptions& options) {
  if (c.fused_gate_up) {
    gate_up_proj =
        register_module("gate_up_proj", Projection(c.hidden_size, 2 * c.intermediate_size, options, c.mlp_bias));
  } else {
    gate_proj = register_module("gate_proj", Projection(c.hidden_size, c.intermediate_size, options, c.mlp_bias));
    up_proj = register_module("up_proj", Projection(c.hidden_size, c.intermediate_size, options, c.mlp_bias));
  }
  down_proj = register_module("down_proj", Projection(c.intermediate_size, c.hidden_size, options, c.mlp_bias));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  if (gate_up_proj) {
    auto halves = gate_up_proj->forward(x).chunk(2, -1);
    return down_proj->forward(swiglu(halves[0], halves[1]));
  }
  return down_proj->forward(swiglu(gate_proj->forward(x), up_proj->forward(x)));
}

DecoderLayerImpl::DecoderLayerImpl(const DecoderConfig& c, const torch::TensorOptions& options, int64_t index_)
    : index(index_) {
  self_attn = register_module("self_attn", Attention(c, options, index_));
  mlp = register_module("mlp", MLP(c, options));
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
  if (c.sandwich_norms) {
    post_self_attn_layernorm =
        register_module("post_self_attn_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
    post_mlp_layernorm = register_module("post_mlp_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
  }
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& h, const AttentionContext& ctx, KVCache* cache) {
  torch::Tensor a = self_attn->forward(input_layernorm->forward(h), ctx, cache, index);
  if (post_self_attn_layernorm) a = post_self_attn_layernorm->forward(a);
  // The residual adds land in the branch's fresh output (a + h == h + a): no new buffer above a
  // freed one, so no hole in the heap under the tensors kept for backward (peak RSS).
  torch::Tensor x = a.add_(h);
  torch::Tensor m = mlp->forward(post_attention_layernorm->forward(x));
  if (post_mlp_layernorm) m = post_mlp_layernorm->forward(m);
  return m.add_(x);
}

DecoderBodyImpl::DecoderBodyImpl(const DecoderConfig& c, const torch::TensorOptions& options) {
  embed_tokens = register_module("embed_tokens", TokenEmbedding(c.vocab_size, c.hidden_size, options));
  layer_list = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    layers.push_back(DecoderLayer(c, options, i));
    layer_list->push_back(layers.back());
  }
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
}

DecoderImpl::DecoderImpl(const DecoderConfig& c, const DecoderOptions& o) : config_(c), options_(o) {
  auto options = torch::TensorOptions().dtype(o.dtype).device(o.device);
  model = register_module("model", DecoderBody(c, options));
  if (c.tie_word_embeddings) {
    lm_head = register_module("lm_head", Projection(model->embed_tokens->weight));
  } else {
    lm_head = register_module("lm_head", Projection(c.hidden_size, c.vocab_size, options));
  }
}

AttentionContext DecoderImpl::context(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                      int64_t past, const torch::Tensor& position_ids) const {
  torch::Tensor positions = position_ids;
  if (!positions.defined()) {
    const int64_t t = input_ids.size(1);
    auto iopts = torch::TensorOptions().dtype(torch::kInt64).device(device());
    positions = (torch::arange(t, iopts) + past).unsqueeze(0).expand({input_ids.size(0), t});
  }
  return make_attention_context(config_, positions, attention_mask, past, device(), options_.attention);
}

torch::Tensor DecoderImpl::embed(const torch::Tensor& input_ids) {
  return model->embed_tokens->forward(input_ids.to(device(), torch::kInt64));
}

torch::Tensor DecoderImpl::final_norm(const torch::Tensor& h) { return model->norm->forward(h); }

torch::Tensor DecoderImpl::logits(const torch::Tensor& normed) {
  // A tied lm_head stays with the embeddings on the first device of a layer split.
  const torch::Device head = lm_head->weight.device();
  torch::Tensor x = normed.device() == head ? normed : normed.to(head);
  return lm_head->forward(x).to(device(), torch::kFloat32);  // back on the input's device (layer split)
}

torch::Tensor DecoderImpl::hidden_states(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                         KVCache* cache, const torch::Tensor& position_ids) {
  if (input_ids.dim() != 2) {
    throw Error("decoder input_ids " + expected_found("shape [batch, tokens]", c10::str(input_ids.sizes())));
  }
  const int64_t past = cache ? cache->length() : 0;
  AttentionContext ctx = context(input_ids, attention_mask, past, position_ids);
  torch::Tensor h = embed(input_ids);
  if (options_.cpu_decode_layers && decode_layers_cpu_applies(*this, h, ctx, cache))
    return decode_layers_cpu(*this, h, ctx, *cache).to(model->norm->weight.device());
  // With a layer split across devices (placement.h) h follows each layer; a no-op otherwise.
  for (auto& layer : model->layers) h = layer->forward(follow_layer_device(h, ctx, *layer), ctx, cache);
  return h.to(model->norm->weight.device());
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                   KVCache* cache, const torch::Tensor& position_ids) {
  torch::Tensor h = hidden_states(input_ids, attention_mask, cache, position_ids);
  return logits(final_norm(h)).to(device());
}

torch::Tensor DecoderImpl::next_token_logits(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                             KVCache* cache, const torch::Tensor& position_ids) {
  torch::Tensor h = hidden_states(input_ids, attention_mask, cache, position_ids);
  return logits(final_norm(h.select(1, h.size(1) - 1))).to(device());
}

std::vector<std::pair<std::string, Projection>> DecoderImpl::projections() const {
  std::vector<std::pair<std::string, Projection>> out;
  for (const auto& item : named_modules("", /*include_self=*/false)) {
    if (auto p = std::dynamic_pointer_cast<ProjectionImpl>(item.value())) out.emplace_back(item.key(), Projection(p));
  }
  return out;
}

void DecoderImpl::init_random_weights() {
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    if (name.find("lora_") != std::string::npos) continue;
    torch::Tensor p = item.value();
    if (name.find("norm") != std::string::npos) {
      p.fill_(1.0);
    } else {
      p.copy_(torch::randn(p.sizes(), torch::TensorOptions().dtype(torch::kFloat32).device(p.device())) * 0.02);
    }
  }
}

}  // namespace psy
