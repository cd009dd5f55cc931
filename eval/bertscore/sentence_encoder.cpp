#include "eval/bertscore/sentence_encoder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "eval/bertscore/sentence_tokenizer.h"
#include "eval/bertscore/transformer_encoder.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace psy::eval {

namespace {

std::string join_path(const std::string& dir, const std::string& rel) {
  if (rel.empty() || rel == ".") return dir;
  return dir + "/" + rel;
}

ErrorLocation at(const std::string& file, const std::string& field = "") {
  return ErrorLocation{file, 0, 0, "", "", field};
}

}  // namespace

const char* pooling_name(SentencePooling p) {
  switch (p) {
    case SentencePooling::Mean: return "mean";
    case SentencePooling::Cls: return "cls";
    case SentencePooling::Max: return "max";
    case SentencePooling::MeanSqrtLen: return "mean_sqrt_len";
  }
  return "mean";
}

SentenceEncoderLayout read_sentence_encoder_layout(const std::string& dir) {
  const std::string expected = "a BERT-family sentence encoder folder (config.json of a bert/roberta model, "
                               "optionally modules.json with Transformer, Pooling, Normalize) such as all-MiniLM-L6-v2";
  if (!path_exists(dir + "/."))
    throw Error(at(dir), "sentence encoder: " + expected_found(expected, "no such folder"));
  SentenceEncoderLayout l;
  l.dir = dir;
  l.transformer_dir = dir;
  std::string pooling_dir;
  const std::string modules_path = dir + "/modules.json";
  if (path_exists(modules_path)) {
    l.has_modules_json = true;
    const nlohmann::json modules = read_json_file(modules_path);
    if (!modules.is_array()) throw Error(at(modules_path), expected_found("a list of modules", modules.type_name()));
    bool transformer = false;
    for (size_t i = 0; i < modules.size(); ++i) {
      const auto& m = modules[i];
      const std::string field = "[" + std::to_string(i) + "].type";
      if (!m.is_object() || !m.contains("type") || !m["type"].is_string())
        throw Error(at(modules_path, field), expected_found("a module object with a type", m.dump()));
      const std::string type = m["type"].get<std::string>();
      const std::string path = m.value("path", std::string());
      const std::string short_type = type.substr(type.rfind('.') == std::string::npos ? 0 : type.rfind('.') + 1);
      if (short_type == "Transformer" && !transformer) {
        l.transformer_dir = join_path(dir, path);
        transformer = true;
      } else if (short_type == "Pooling" && pooling_dir.empty()) {
        pooling_dir = join_path(dir, path);
      } else if (short_type == "Normalize") {
        l.normalize = true;
      } else {
        throw Error(at(modules_path, field),
                    "module " + expected_found("Transformer, Pooling or Normalize (what psy runs)", "'" + type + "'"));
      }
    }
    if (!transformer)
      throw Error(at(modules_path), expected_found("a sentence_transformers.models.Transformer module", "none"));
  }
  const std::string config_path = l.transformer_dir + "/config.json";
  if (!path_exists(config_path))
    throw Error(at(config_path), "sentence encoder: " + expected_found(expected, "no config.json"));
  (void)read_encoder_config(config_path);  // bert / roberta family, or a one-line refusal
  if (!pooling_dir.empty()) {
    const std::string pool_path = pooling_dir + "/config.json";
    const nlohmann::json p = read_json_file(pool_path);
    auto on = [&](const char* key) { return p.contains(key) && p[key].is_boolean() && p[key].get<bool>(); };
    std::vector<SentencePooling> modes;
    if (on("pooling_mode_cls_token")) modes.push_back(SentencePooling::Cls);
    if (on("pooling_mode_mean_tokens")) modes.push_back(SentencePooling::Mean);
    if (on("pooling_mode_max_tokens")) modes.push_back(SentencePooling::Max);
    if (on("pooling_mode_mean_sqrt_len_tokens")) modes.push_back(SentencePooling::MeanSqrtLen);
    for (const char* unsupported : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
      if (on(unsupported))
        throw Error(at(pool_path, unsupported), expected_found("cls, mean, max or mean_sqrt_len pooling", "true"));
    if (modes.size() != 1)
      throw Error(at(pool_path, "pooling_mode_*"),
                  expected_found("exactly one pooling mode set to true", std::to_string(modes.size())));
    l.pooling = modes.front();
  }
  for (const std::string& d : {l.transformer_dir, dir}) {
    const std::string sb = d + "/sentence_bert_config.json";
    if (!path_exists(sb)) continue;
    const nlohmann::json j = read_json_file(sb);
    if (j.contains("max_seq_length") && j["max_seq_length"].is_number_integer() && j["max_seq_length"].get<int64_t>() > 0)
      l.max_seq_length = static_cast<size_t>(j["max_seq_length"].get<int64_t>());
    break;
  }
  return l;
}

std::string sentence_encoder_fingerprint(const SentenceEncoderLayout& l) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& d : {l.dir, l.transformer_dir}) {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(d, ec)) {
      if (!e.is_regular_file()) continue;
      const std::string name = e.path().filename().string();
      const std::string ext = e.path().extension().string();
      if (ext == ".json" || ext == ".txt" || ext == ".safetensors" || ext == ".model")
        files.push_back(fs::relative(e.path(), l.dir).string());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 1099511628211ULL;
    }
  };
  std::vector<char> buf(1 << 20);
  for (const auto& f : files) {
    if (f == "README.md") continue;
    mix(f.c_str(), f.size() + 1);
    std::ifstream in(l.dir + "/" + f, std::ios::binary);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      mix(buf.data(), static_cast<size_t>(in.gcount()));
    }
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

struct SentenceEncoder::Impl {
  SentenceEncoderLayout layout;
  SentenceTokenizer tokenizer;
  std::unique_ptr<TransformerEncoder> encoder;
  int64_t batch_size = 32;
  size_t max_len = 512;
  mutable size_t truncated = 0;

  Impl(SentenceEncoderLayout l, int64_t batch, torch::Device device)
      : layout(std::move(l)),
        tokenizer(SentenceTokenizer::load(layout.transformer_dir, 512)),
        encoder(std::make_unique<TransformerEncoder>(layout.transformer_dir, -1, device, torch::kFloat32)),
        batch_size(batch) {
    max_len = std::min<size_t>(tokenizer.model_max_length(), static_cast<size_t>(encoder->config().max_input_length()));
    if (layout.max_seq_length > 0) max_len = std::min(max_len, layout.max_seq_length);
    if (max_len < 2) max_len = 2;
  }
};

SentenceEncoder::SentenceEncoder(const std::string& dir, int64_t batch_size, const std::string& device) {
  if (batch_size < 1) throw Error("sentence encoder batch size: " + expected_found("at least 1", std::to_string(batch_size)));
  impl_ = std::make_unique<Impl>(read_sentence_encoder_layout(dir), batch_size, torch::Device(device));
}
SentenceEncoder::~SentenceEncoder() = default;
SentenceEncoder::SentenceEncoder(SentenceEncoder&&) noexcept = default;
SentenceEncoder& SentenceEncoder::operator=(SentenceEncoder&&) noexcept = default;

const SentenceEncoderLayout& SentenceEncoder::layout() const { return impl_->layout; }
int64_t SentenceEncoder::dimension() const { return impl_->encoder->config().hidden_size; }
size_t SentenceEncoder::truncated() const { return impl_->truncated; }

std::vector<std::vector<float>> SentenceEncoder::encode(const std::vector<std::string>& texts) const {
  const Impl& m = *impl_;
  std::vector<std::vector<int64_t>> ids(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EncodedSentence e = m.tokenizer.sent_encode(texts[i]);
    if (e.truncated || e.ids.size() > m.max_len) {
      ++m.truncated;
      if (e.ids.size() > m.max_len) {
        e.ids.resize(m.max_len - 1);
        e.ids.push_back(m.tokenizer.sep_id());
      }
    }
    ids[i] = std::move(e.ids);
  }
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() > ids[b].size(); });

  const int64_t dim = dimension();
  std::vector<std::vector<float>> out(texts.size());
  c10::InferenceMode inference;
  const size_t batch = static_cast<size_t>(m.batch_size);
  for (size_t begin = 0; begin < order.size(); begin += batch) {
    const size_t end = std::min(order.size(), begin + batch);
    const int64_t b = static_cast<int64_t>(end - begin);
    const auto [id_tensor, mask] = right_padded_batch(ids, order, begin, end, m.tokenizer.pad_id());
    const torch::Device dev = m.encoder->device();
    torch::Tensor h = m.encoder->forward(id_tensor.to(dev), mask.to(dev)).to(torch::kFloat32);  // [B, T, H]
    torch::Tensor mf = mask.to(dev).to(torch::kFloat32).unsqueeze(-1);                         // [B, T, 1]
    torch::Tensor pooled;
    switch (m.layout.pooling) {
      case SentencePooling::Cls: pooled = h.select(1, 0); break;
      case SentencePooling::Max: pooled = h.masked_fill(mf == 0, -1e9).amax(1); break;
      case SentencePooling::Mean:
      case SentencePooling::MeanSqrtLen: {
        torch::Tensor sum = (h * mf).sum(1);
        torch::Tensor n = mf.sum(1).clamp_min(1e-9);
        pooled = m.layout.pooling == SentencePooling::Mean ? sum / n : sum / n.sqrt();
        break;
      }
    }
    if (m.layout.normalize) pooled = torch::nn::functional::normalize(pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    pooled = pooled.contiguous().cpu();
    const float* p = pooled.data_ptr<float>();
    for (int64_t row = 0; row < b; ++row)
      out[order[begin + static_cast<size_t>(row)]].assign(p + row * dim, p + (row + 1) * dim);
  }
  return out;
}

}  // namespace psy::eval
