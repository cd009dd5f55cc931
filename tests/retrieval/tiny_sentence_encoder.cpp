#include "tests/retrieval/tiny_sentence_encoder.h"

#include <cmath>
#include <map>

#include <torch/torch.h>

#include "libpsy/core/atomic_file.h"
#include "libpsy/io/safetensors.h"

namespace psy::test {

namespace {

torch::Tensor filled(const std::vector<int64_t>& shape, double seed, double scale) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(scale * std::sin(0.7318 * static_cast<double>(i) + seed));
  return torch::tensor(v).reshape(shape);
}

}  // namespace

std::string write_tiny_sentence_encoder(const std::string& dir) {
  make_dirs(dir + "/1_Pooling");
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  int64_t v = 5;
  for (char c = 'a'; c <= 'z'; ++c, v += 2) vocab += std::string(1, c) + "\n##" + std::string(1, c) + "\n";
  for (const char* p : {".", ",", "?", "!", "'"}) {
    vocab += std::string(p) + "\n";
    ++v;
  }
  write_file_atomic(dir + "/vocab.txt", vocab);
  const int64_t h = 16, f = 32, layers = 2, positions = 512;
  write_file_atomic(dir + "/config.json",
                    "{\"model_type\": \"bert\", \"vocab_size\": " + std::to_string(v) +
                        ", \"hidden_size\": 16, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
                        "\"intermediate_size\": 32, \"max_position_embeddings\": 512, \"type_vocab_size\": 2, "
                        "\"pad_token_id\": 0, \"layer_norm_eps\": 1e-12, \"hidden_act\": \"gelu\"}\n");
  write_file_atomic(dir + "/tokenizer_config.json", "{\"do_lower_case\": true, \"model_max_length\": 512}\n");
  write_file_atomic(dir + "/modules.json",
                    "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                    " {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},"
                    " {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}]\n");
  write_file_atomic(dir + "/1_Pooling/config.json",
                    "{\"word_embedding_dimension\": 16, \"pooling_mode_cls_token\": false, "
                    "\"pooling_mode_mean_tokens\": true, \"pooling_mode_max_tokens\": false}\n");
  write_file_atomic(dir + "/sentence_bert_config.json", "{\"max_seq_length\": 128, \"do_lower_case\": false}\n");
  std::map<std::string, torch::Tensor> t;
  double seed = 0.1;
  auto add = [&](const std::string& name, const std::vector<int64_t>& shape, double scale) {
    t[name] = filled(shape, seed, scale);
    seed += 1.3;
  };
  add("embeddings.word_embeddings.weight", {v, h}, 0.5);
  add("embeddings.position_embeddings.weight", {positions, h}, 0.05);
  add("embeddings.token_type_embeddings.weight", {2, h}, 0.05);
  t["embeddings.LayerNorm.weight"] = torch::ones({h});
  t["embeddings.LayerNorm.bias"] = torch::zeros({h});
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
      add(p + m + ".weight", {h, h}, 0.3);
      add(p + m + ".bias", {h}, 0.02);
    }
    add(p + "intermediate.dense.weight", {f, h}, 0.3);
    add(p + "intermediate.dense.bias", {f}, 0.02);
    add(p + "output.dense.weight", {h, f}, 0.3);
    add(p + "output.dense.bias", {h}, 0.02);
    for (const char* ln : {"attention.output.LayerNorm", "output.LayerNorm"}) {
      t[p + ln + ".weight"] = torch::ones({h});
      t[p + ln + ".bias"] = torch::zeros({h});
    }
  }
  write_safetensors(dir + "/model.safetensors", t, {{"format", "pt"}});
  return dir;
}

}  // namespace psy::test
