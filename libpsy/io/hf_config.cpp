#include "libpsy/io/hf_config.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace psy {

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& field, const std::string& problem) {
  ErrorLocation where;
  where.file = file;
  where.field = field;
  throw Error(where, problem);
}

int64_t get_int(const nlohmann::json& j, const std::string& key, const std::string& file, bool required,
                int64_t fallback, int64_t min_value = 1) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) fail(file, key, "missing (required for a Llama/Mistral decoder)");
    return fallback;
  }
  const auto& v = j[key];
  if (!v.is_number_integer()) fail(file, key, expected_found("an integer", v.dump()));
  int64_t x = v.get<int64_t>();
  if (x < min_value) fail(file, key, expected_found("an integer >= " + std::to_string(min_value), v.dump()));
  return x;
}

double get_double(const nlohmann::json& j, const std::string& key, const std::string& file, double fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  const auto& v = j[key];
  if (!v.is_number()) fail(file, key, expected_found("a number", v.dump()));
  double x = v.get<double>();
  if (!(x > 0)) fail(file, key, expected_found("a positive number", v.dump()));
  return x;
}

bool get_bool(const nlohmann::json& j, const std::string& key, const std::string& file, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) fail(file, key, expected_found("true or false", j[key].dump()));
  return j[key].get<bool>();
}

std::optional<int64_t> get_optional_id(const nlohmann::json& j, const std::string& key, const std::string& file) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_number_integer()) fail(file, key, expected_found("an integer token id", j[key].dump()));
  return j[key].get<int64_t>();
}

}  // namespace

DecoderConfig parse_decoder_config(const std::string& json_text, const std::string& file) {
  nlohmann::json j = parse_json_text(json_text, file);
  if (!j.is_object()) throw Error(file + ": expected a JSON object");
  DecoderConfig c;
  if (!j.contains("model_type") || !j["model_type"].is_string()) fail(file, "model_type", "missing or not a string");
  c.model_type = j["model_type"].get<std::string>();
  if (c.model_type != "llama" && c.model_type != "mistral") {
    fail(file, "model_type", "unsupported architecture '" + c.model_type + "' (supported: llama, mistral)");
  }
  if (j.contains("architectures") && j["architectures"].is_array()) {
    for (const auto& a : j["architectures"]) {
      if (!a.is_string()) continue;
      const std::string name = a.get<std::string>();
      if (name != "LlamaForCausalLM" && name != "MistralForCausalLM") {
        fail(file, "architectures",
             "unsupported architecture '" + name + "' (supported: LlamaForCausalLM, MistralForCausalLM)");
      }
    }
  }
  c.vocab_size = get_int(j, "vocab_size", file, true, 0);
  c.hidden_size = get_int(j, "hidden_size", file, true, 0);
  c.intermediate_size = get_int(j, "intermediate_size", file, true, 0);
  c.num_hidden_layers = get_int(j, "num_hidden_layers", file, true, 0);
  c.num_attention_heads = get_int(j, "num_attention_heads", file, true, 0);
  c.num_key_value_heads = get_int(j, "num_key_value_heads", file, false, c.num_attention_heads);
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    c.head_dim = get_int(j, "head_dim", file, true, 0);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      fail(file, "hidden_size", "hidden_size " + std::to_string(c.hidden_size) + " is not divisible by " +
                                    "num_attention_heads " + std::to_string(c.num_attention_heads) +
                                    " and no head_dim is given");
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) fail(file, "head_dim", "head_dim " + std::to_string(c.head_dim) + " must be even for RoPE");
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    fail(file, "num_key_value_heads", "num_attention_heads " + std::to_string(c.num_attention_heads) +
                                          " is not a multiple of num_key_value_heads " +
                                          std::to_string(c.num_key_value_heads));
  }
  c.rms_norm_eps = get_double(j, "rms_norm_eps", file, 1e-6);
  c.rope_theta = get_double(j, "rope_theta", file, 10000.0);
  c.max_position_embeddings = get_int(j, "max_position_embeddings", file, false, 2048);
  c.tie_word_embeddings = get_bool(j, "tie_word_embeddings", file, false);
  if (j.contains("sliding_window") && !j["sliding_window"].is_null()) {
    c.sliding_window = get_int(j, "sliding_window", file, true, 0);
  }
  if (get_bool(j, "use_sliding_window", file, true) == false) c.sliding_window.reset();
  if (get_bool(j, "attention_bias", file, false)) fail(file, "attention_bias", "true is not supported (bias-free only)");
  if (get_bool(j, "mlp_bias", file, false)) fail(file, "mlp_bias", "true is not supported (bias-free only)");
  if (j.contains("hidden_act") && j["hidden_act"].is_string()) {
    const std::string act = j["hidden_act"].get<std::string>();
    if (act != "silu" && act != "swish") fail(file, "hidden_act", "unsupported activation '" + act + "' (supported: silu)");
  }
  if (j.contains("quantization_config") && !j["quantization_config"].is_null()) {
    fail(file, "quantization_config", "pre-quantized checkpoints are not supported; use the original weights");
  }
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    const auto& rs = j["rope_scaling"];
    if (!rs.is_object()) fail(file, "rope_scaling", expected_found("an object or null", rs.dump()));
    std::string type;
    if (rs.contains("rope_type") && rs["rope_type"].is_string()) type = rs["rope_type"].get<std::string>();
    if (rs.contains("type") && rs["type"].is_string()) type = rs["type"].get<std::string>();
    if (type.empty()) {
      fail(file, "rope_scaling.type", "missing (supported: linear, dynamic)");
    } else if (type == "default") {
      c.rope_scaling = RopeScalingType::None;
    } else if (type == "linear" || type == "dynamic") {
      c.rope_scaling = type == "linear" ? RopeScalingType::Linear : RopeScalingType::Dynamic;
      if (!rs.contains("factor") || !rs["factor"].is_number() || !(rs["factor"].get<double>() >= 1.0)) {
        fail(file, "rope_scaling.factor", expected_found("a number >= 1", rs.contains("factor") ? rs["factor"].dump() : "nothing"));
      }
      c.rope_scaling_factor = rs["factor"].get<double>();
    } else {
      fail(file, "rope_scaling.type", "unsupported RoPE scaling '" + type + "' (supported: linear, dynamic)");
    }
  }
  if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"].get<std::string>();
  if (c.torch_dtype != "float32" && c.torch_dtype != "bfloat16" && c.torch_dtype != "float16") {
    fail(file, "torch_dtype", "unsupported '" + c.torch_dtype + "' (supported: float32, bfloat16, float16)");
  }
  if (j.contains("eos_token_id") && !j["eos_token_id"].is_null()) {
    const auto& e = j["eos_token_id"];
    if (e.is_number_integer()) {
      c.eos_token_ids.push_back(e.get<int64_t>());
    } else if (e.is_array()) {
      for (const auto& x : e) {
        if (!x.is_number_integer()) fail(file, "eos_token_id", expected_found("integer token ids", e.dump()));
        c.eos_token_ids.push_back(x.get<int64_t>());
      }
    } else {
      fail(file, "eos_token_id", expected_found("an integer or a list of integers", e.dump()));
    }
  }
  c.bos_token_id = get_optional_id(j, "bos_token_id", file);
  c.pad_token_id = get_optional_id(j, "pad_token_id", file);
  return c;
}

DecoderConfig load_decoder_config(const std::string& path) {
  struct stat st {};
  std::string file = path;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) file = path + "/config.json";
  return parse_decoder_config(read_text_file(file), file);
}

std::string decoder_config_to_json(const DecoderConfig& c) {
  nlohmann::ordered_json j;
  j["architectures"] = {c.model_type == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM"};
  j["model_type"] = c.model_type;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["hidden_act"] = "silu";
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  if (c.rope_scaling == RopeScalingType::None) {
    j["rope_scaling"] = nullptr;
  } else {
    j["rope_scaling"] = {{"type", c.rope_scaling == RopeScalingType::Linear ? "linear" : "dynamic"},
                         {"factor", c.rope_scaling_factor}};
  }
  j["max_position_embeddings"] = c.max_position_embeddings;
  if (c.sliding_window) j["sliding_window"] = *c.sliding_window; else j["sliding_window"] = nullptr;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["torch_dtype"] = c.torch_dtype;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty()) j["eos_token_id"] = c.eos_token_ids;
  if (c.pad_token_id) j["pad_token_id"] = *c.pad_token_id;
  return j.dump(1) + "\n";
}

}  // namespace psy
