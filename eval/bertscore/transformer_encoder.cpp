#include "eval/bertscore/transformer_encoder.h"

#include <cmath>
#include <limits>

#include "libpsy/core/error.h"
#include "libpsy/io/safetensors.h"

namespace psy::eval {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Finds a tensor under one of the accepted key spellings (prefix, LayerNorm gamma/beta).
class WeightSource {
 public:
  WeightSource(const std::string& model_dir, const EncoderConfig& config)
      : reader_(model_dir), model_dir_(model_dir) {
    for (const std::string& p : {std::string(), std::string("bert."), std::string("roberta."), config.model_type + "."}) {
      if (reader_.has(p + "embeddings.word_embeddings.weight")) {
        prefix_ = p;
        return;
      }
    }
    throw Error(ErrorLocation{model_dir, 0, 0, "", "", ""},
                expected_found("an encoder checkpoint with embeddings.word_embeddings.weight (optionally prefixed bert./roberta.)",
                               "no such tensor"));
  }

  torch::Tensor get(const std::string& key, const std::vector<int64_t>& shape, torch::Device device,
                    torch::ScalarType dtype) const {
    std::string name = prefix_ + key;
    if (!reader_.has(name)) {
      // Older BERT checkpoints name LayerNorm parameters gamma/beta.
      std::string alt;
      if (ends_with(key, "LayerNorm.weight")) alt = prefix_ + key.substr(0, key.size() - 6) + "gamma";
      if (ends_with(key, "LayerNorm.bias")) alt = prefix_ + key.substr(0, key.size() - 4) + "beta";
      if (alt.empty() || !reader_.has(alt))
        throw Error(ErrorLocation{model_dir_, 0, 0, "tensor " + name, "", ""}, "missing from the checkpoint");
      name = alt;
    }
    const auto found = reader_.shape(name);
    if (found != shape) {
      auto str = [](const std::vector<int64_t>& s) {
        std::string out = "[";
        for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
        return out + "]";
      };
      throw Error(ErrorLocation{model_dir_, 0, 0, "tensor " + name, "", ""}, "shape " + expected_found(str(shape), str(found)));
    }
    return reader_.load(name, device, dtype);
  }

 private:
  CheckpointReader reader_;
  std::string model_dir_;
  std::string prefix_;
};

}  // namespace

PaddedBatch right_padded_batch(const std::vector<std::vector<int64_t>>& ids, const std::vector<size_t>& order,
                               size_t begin, size_t end, int64_t pad_id) {
  const int64_t b = static_cast<int64_t>(end - begin);
  const int64_t t = static_cast<int64_t>(ids[order[begin]].size());
  PaddedBatch batch{torch::full({b, t}, pad_id, torch::kInt64), torch::zeros({b, t}, torch::kInt64)};
  auto id_acc = batch.ids.accessor<int64_t, 2>();
  auto mask_acc = batch.mask.accessor<int64_t, 2>();
  for (int64_t row = 0; row < b; ++row) {
    const auto& s = ids[order[begin + static_cast<size_t>(row)]];
    for (size_t k = 0; k < s.size(); ++k) {
      id_acc[row][static_cast<int64_t>(k)] = s[k];
      mask_acc[row][static_cast<int64_t>(k)] = 1;
    }
  }
  return batch;
}

torch::ScalarType parse_encoder_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return torch::kFloat32;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  if (name == "fp16" || name == "float16") return torch::kFloat16;
  throw Error("encoder dtype: " + expected_found("fp32, bf16 or fp16", "'" + name + "'"));
}

TransformerEncoder::TransformerEncoder(const std::string& model_dir, int64_t num_layers, torch::Device device,
                                       torch::ScalarType dtype)
    : config_(read_encoder_config(model_dir + "/config.json")), device_(device), dtype_(dtype) {
  const auto& c = config_;
  if (dtype == torch::kFloat16 && device.is_cpu())
    throw Error("encoder dtype fp16 on the CPU: LibTorch's CPU LayerNorm has no fp16 kernel; " +
                expected_found("fp32 or bf16 on the CPU (fp16 on CUDA)", "fp16"));
  if (num_layers < 0) num_layers = c.num_hidden_layers;
  if (num_layers > c.num_hidden_layers)
    throw Error(ErrorLocation{model_dir + "/config.json", 0, 0, "", "", "num_hidden_layers"},
                "layer " + std::to_string(num_layers) + " requested: " + expected_found("at most " + std::to_string(c.num_hidden_layers), std::to_string(num_layers)));
  WeightSource w(model_dir, c);
  const int64_t h = c.hidden_size, f = c.intermediate_size;
  word_ = w.get("embeddings.word_embeddings.weight", {c.vocab_size, h}, device, dtype);
  position_ = w.get("embeddings.position_embeddings.weight", {c.max_position_embeddings, h}, device, dtype);
  token_type_row_ = w.get("embeddings.token_type_embeddings.weight", {c.type_vocab_size, h}, device, dtype)[0];
  emb_ln_w_ = w.get("embeddings.LayerNorm.weight", {h}, device, dtype);
  emb_ln_b_ = w.get("embeddings.LayerNorm.bias", {h}, device, dtype);
  for (int64_t l = 0; l < num_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    Layer L;
    L.q_w = w.get(p + "attention.self.query.weight", {h, h}, device, dtype);
    L.q_b = w.get(p + "attention.self.query.bias", {h}, device, dtype);
    L.k_w = w.get(p + "attention.self.key.weight", {h, h}, device, dtype);
    L.k_b = w.get(p + "attention.self.key.bias", {h}, device, dtype);
    L.v_w = w.get(p + "attention.self.value.weight", {h, h}, device, dtype);
    L.v_b = w.get(p + "attention.self.value.bias", {h}, device, dtype);
    L.o_w = w.get(p + "attention.output.dense.weight", {h, h}, device, dtype);
    L.o_b = w.get(p + "attention.output.dense.bias", {h}, device, dtype);
    L.ln1_w = w.get(p + "attention.output.LayerNorm.weight", {h}, device, dtype);
    L.ln1_b = w.get(p + "attention.output.LayerNorm.bias", {h}, device, dtype);
    L.in_w = w.get(p + "intermediate.dense.weight", {f, h}, device, dtype);
    L.in_b = w.get(p + "intermediate.dense.bias", {f}, device, dtype);
    L.out_w = w.get(p + "output.dense.weight", {h, f}, device, dtype);
    L.out_b = w.get(p + "output.dense.bias", {h}, device, dtype);
    L.ln2_w = w.get(p + "output.LayerNorm.weight", {h}, device, dtype);
    L.ln2_b = w.get(p + "output.LayerNorm.bias", {h}, device, dtype);
    // One GEMM for the three projections.
    L.qkv_w = torch::cat({L.q_w, L.k_w, L.v_w}, 0);
    L.qkv_b = torch::cat({L.q_b, L.k_b, L.v_b}, 0);
    L.q_w = L.k_w = L.v_w = L.q_b = L.k_b = L.v_b = torch::Tensor();
    layers_.push_back(std::move(L));
  }
}

torch::Tensor TransformerEncoder::embed(const torch::Tensor& ids) const {
  const auto& c = config_;
  const int64_t t = ids.size(1);
  if (t > c.max_input_length())
    throw Error("encoder input of " + std::to_string(t) + " tokens: " +
                expected_found("at most " + std::to_string(c.max_input_length()) + " (max_position_embeddings)", std::to_string(t)));
  torch::Tensor positions;
  if (c.roberta_positions()) {
    // transformers' create_position_ids_from_input_ids: non-pad tokens count from padding_idx + 1.
    const auto not_pad = ids.ne(c.pad_token_id).to(torch::kInt64);
    positions = not_pad.cumsum(1) * not_pad + c.pad_token_id;
  } else {
    positions = torch::arange(t, torch::TensorOptions().dtype(torch::kInt64).device(ids.device())).unsqueeze(0).expand_as(ids);
  }
  auto x = torch::embedding(word_, ids) + torch::embedding(position_, positions) + token_type_row_;
  return torch::layer_norm(x, {c.hidden_size}, emb_ln_w_, emb_ln_b_, c.layer_norm_eps);
}

torch::Tensor TransformerEncoder::additive_mask(const torch::Tensor& mask) const {
  // transformers: (1 - mask) * finfo(dtype).min, broadcast over heads and query positions.
  const double min = dtype_ == torch::kFloat32    ? static_cast<double>(std::numeric_limits<float>::lowest())
                     : dtype_ == torch::kBFloat16 ? -3.3895313892515355e38
                                                  : -65504.0;
  return ((1 - mask.to(dtype_)) * min).unsqueeze(1).unsqueeze(2);
}

torch::Tensor TransformerEncoder::run_layer(const Layer& L, const torch::Tensor& x, const torch::Tensor& add_mask) const {
  const auto& c = config_;
  const int64_t b = x.size(0), t = x.size(1), heads = c.num_attention_heads, d = c.hidden_size / heads;
  auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads, d}).transpose(1, 2); };
  const auto qkv = torch::linear(x, L.qkv_w, L.qkv_b).split(c.hidden_size, -1);
  const auto q = split(qkv[0].contiguous());
  const auto k = split(qkv[1].contiguous());
  const auto v = split(qkv[2].contiguous());
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d)) + add_mask;
  const auto probs = torch::softmax(scores, -1);
  const auto context = torch::matmul(probs, v).transpose(1, 2).reshape({b, t, c.hidden_size});
  const auto a = torch::layer_norm(x + torch::linear(context, L.o_w, L.o_b), {c.hidden_size}, L.ln1_w, L.ln1_b, c.layer_norm_eps);
  auto inner = torch::linear(a, L.in_w, L.in_b);
  if (c.hidden_act == "gelu") {
    inner = torch::gelu(inner);  // exact (erf)
  } else if (c.hidden_act == "relu") {
    inner = torch::relu(inner);
  } else {
    inner = torch::gelu(inner, "tanh");
  }
  return torch::layer_norm(a + torch::linear(inner, L.out_w, L.out_b), {c.hidden_size}, L.ln2_w, L.ln2_b, c.layer_norm_eps);
}

torch::Tensor TransformerEncoder::forward(const torch::Tensor& ids, const torch::Tensor& mask) const {
  c10::InferenceMode inference;
  const auto add_mask = additive_mask(mask);
  auto x = embed(ids);
  for (const auto& L : layers_) x = run_layer(L, x, add_mask);
  return x;
}

std::vector<torch::Tensor> TransformerEncoder::all_hidden_states(const torch::Tensor& ids, const torch::Tensor& mask) const {
  c10::InferenceMode inference;
  const auto add_mask = additive_mask(mask);
  std::vector<torch::Tensor> states{embed(ids)};
  for (const auto& L : layers_) states.push_back(run_layer(L, states.back(), add_mask));
  return states;
}

}  // namespace psy::eval
