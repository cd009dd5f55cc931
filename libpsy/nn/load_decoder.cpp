#include "libpsy/nn/load_decoder.h"

#include <set>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/nn/model_size.h"

namespace psy {

namespace {
bool is_lora(const std::string& name) { return name.find(".lora_") != std::string::npos; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void load_decoder_weights(DecoderImpl& decoder, const CheckpointReader& checkpoint) {
  torch::NoGradGuard no_grad;
  std::set<std::string> wanted;
  std::vector<std::string> missing;
  for (auto& item : decoder.named_parameters()) {
    const std::string& name = item.key();
    if (is_lora(name)) continue;
    wanted.insert(name);
    if (!checkpoint.has(name)) {
      if (name == "lm_head.weight" && decoder.config().tie_word_embeddings) continue;  // shares embed_tokens
      missing.push_back(name);
      continue;
    }
    torch::Tensor param = item.value();
    const auto shape = checkpoint.shape(name);
    if (shape != param.sizes().vec()) {
      throw Error(checkpoint.path() + ": tensor '" + name + "' " +
                  expected_found("shape " + c10::str(param.sizes()) + " (from config.json)", c10::str(c10::IntArrayRef(shape))));
    }
    param.copy_(checkpoint.tensor(name));
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 8) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    throw Error(checkpoint.path() + ": checkpoint lacks " + list);
  }
  std::vector<std::string> unexpected;
  for (const auto& name : checkpoint.names()) {
    if (wanted.count(name) || ends_with(name, ".rotary_emb.inv_freq")) continue;
    unexpected.push_back(name);
  }
  if (!unexpected.empty()) {
    std::string list;
    for (std::size_t i = 0; i < unexpected.size() && i < 8; ++i) list += (i ? ", " : "") + unexpected[i];
    if (unexpected.size() > 8) list += ", ... (" + std::to_string(unexpected.size()) + " in all)";
    throw Error(checkpoint.path() + ": unexpected tensors for a " + decoder.config().model_type + " decoder of " +
                std::to_string(decoder.config().num_hidden_layers) + " layers: " + list);
  }
}

Decoder load_decoder(const std::string& dir, const DecoderOptions& options) {
  DecoderConfig config = load_decoder_config(dir);
  check_decoder_fits_host(config, static_cast<int>(c10::elementSize(options.dtype)), options.device.is_cpu(), dir);
  CheckpointReader checkpoint(dir);
  Decoder decoder(config, options);
  load_decoder_weights(*decoder, checkpoint);
  decoder->eval();
  return decoder;
}

void save_decoder(DecoderImpl& decoder, const std::string& dir) {
  make_dirs(dir);
  NamedTensors tensors;
  for (auto& item : decoder.named_parameters()) {
    if (is_lora(item.key())) continue;
    if (item.key() == "lm_head.weight" && decoder.config().tie_word_embeddings) continue;
    tensors.emplace_back(item.key(), item.value());
  }
  DecoderConfig config = decoder.config();
  const auto dtype = decoder.options().dtype;
  config.torch_dtype = dtype == torch::kBFloat16 ? "bfloat16" : dtype == torch::kFloat16 ? "float16" : "float32";
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  write_file_atomic(dir + "/config.json", decoder_config_to_json(config));
}

}  // namespace psy
