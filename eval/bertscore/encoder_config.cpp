#include "eval/bertscore/encoder_config.h"

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace psy::eval {

bool EncoderConfig::roberta_positions() const {
  return model_type == "roberta" || model_type == "xlm-roberta" || model_type == "camembert";
}

int64_t EncoderConfig::max_input_length() const {
  return roberta_positions() ? max_position_embeddings - pad_token_id - 1 : max_position_embeddings;
}

EncoderConfig read_encoder_config(const std::string& path) {
  nlohmann::json j = read_json_file(path);
  auto where = [&](const std::string& field) { return ErrorLocation{path, 0, 0, "", "", field}; };
  auto integer = [&](const char* field, bool required, int64_t fallback) -> int64_t {
    const auto it = j.find(field);
    if (it == j.end() || it->is_null()) {
      if (required) throw Error(where(field), "missing (an encoder config.json needs it)");
      return fallback;
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 0) throw Error(where(field), expected_found("a non-negative integer", it->dump()));
    return it->get<int64_t>();
  };
  EncoderConfig c;
  if (!j.contains("model_type") || !j["model_type"].is_string()) throw Error(where("model_type"), expected_found("\"bert\" or \"roberta\"", j.value("model_type", nlohmann::json()).dump()));
  c.model_type = j["model_type"].get<std::string>();
  if (c.model_type != "bert" && !c.roberta_positions())
    throw Error(where("model_type"), expected_found("bert, roberta, xlm-roberta or camembert", "\"" + c.model_type + "\""));
  c.vocab_size = integer("vocab_size", true, 0);
  c.hidden_size = integer("hidden_size", true, 0);
  c.num_hidden_layers = integer("num_hidden_layers", true, 0);
  c.num_attention_heads = integer("num_attention_heads", true, 0);
  c.intermediate_size = integer("intermediate_size", true, 0);
  c.max_position_embeddings = integer("max_position_embeddings", false, 512);
  c.type_vocab_size = integer("type_vocab_size", false, 2);
  c.pad_token_id = integer("pad_token_id", false, c.roberta_positions() ? 1 : 0);
  if (j.contains("layer_norm_eps")) {
    if (!j["layer_norm_eps"].is_number()) throw Error(where("layer_norm_eps"), expected_found("a number", j["layer_norm_eps"].dump()));
    c.layer_norm_eps = j["layer_norm_eps"].get<double>();
  }
  if (j.contains("hidden_act")) c.hidden_act = j["hidden_act"].get<std::string>();
  if (c.hidden_act != "gelu" && c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh" && c.hidden_act != "relu")
    throw Error(where("hidden_act"), expected_found("gelu, gelu_new, gelu_pytorch_tanh or relu", "\"" + c.hidden_act + "\""));
  const std::string pos = j.value("position_embedding_type", std::string("absolute"));
  if (pos != "absolute") throw Error(where("position_embedding_type"), expected_found("\"absolute\"", "\"" + pos + "\""));
  if (c.num_attention_heads == 0 || c.hidden_size % c.num_attention_heads != 0)
    throw Error(where("num_attention_heads"), expected_found("a divisor of hidden_size " + std::to_string(c.hidden_size),
                                                            std::to_string(c.num_attention_heads)));
  if (c.max_input_length() < 2) throw Error(where("max_position_embeddings"), expected_found("room for at least 2 tokens", std::to_string(c.max_position_embeddings)));
  return c;
}

}  // namespace psy::eval
