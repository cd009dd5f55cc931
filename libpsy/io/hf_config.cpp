#include "libpsy/io/hf_config.h"

#include <sys/stat.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace psy {

namespace {

struct Family {
  const char* model_type;
  const char* architecture;
};
const Family kFamilies[] = {{"llama", "LlamaForCausalLM"}, {"mistral", "MistralForCausalLM"},
                            {"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"},
                            {"glm", "GlmForCausalLM"},     {"glm4", "Glm4ForCausalLM"}};

const Family* find_family(const std::string& model_type) {
  for (const auto& f : kFamilies)
    if (model_type == f.model_type) return &f;
  return nullptr;
}

bool is_glm(const std::string& t) { return t == "glm" || t == "glm4"; }

[[noreturn]] void fail(const std::string& file, const std::string& field, const std::string& problem) {
  ErrorLocation where;
  where.file = file;
  where.field = field;
  throw Error(where, problem);
}

bool present(const nlohmann::json& j, const std::string& key) { return j.contains(key) && !j[key].is_null(); }

int64_t get_int(const nlohmann::json& j, const std::string& key, const std::string& file, bool required,
                int64_t fallback, int64_t min_value = 1) {
  if (!present(j, key)) {
    if (required) fail(file, key, "missing (required for a decoder config)");
    return fallback;
  }
  const auto& v = j[key];
  if (!v.is_number_integer()) fail(file, key, expected_found("an integer", v.dump()));
  int64_t x = v.get<int64_t>();
  if (x < min_value) fail(file, key, expected_found("an integer >= " + std::to_string(min_value), v.dump()));
  return x;
}

double get_double(const nlohmann::json& j, const std::string& key, const std::string& file, double fallback) {
  if (!present(j, key)) return fallback;
  const auto& v = j[key];
  if (!v.is_number()) fail(file, key, expected_found("a number", v.dump()));
  double x = v.get<double>();
  if (!(x > 0) || !std::isfinite(x)) fail(file, key, expected_found("a positive number", v.dump()));
  return x;
}

bool get_bool(const nlohmann::json& j, const std::string& key, const std::string& file, bool fallback) {
  if (!present(j, key)) return fallback;
  if (!j[key].is_boolean()) fail(file, key, expected_found("true or false", j[key].dump()));
  return j[key].get<bool>();
}

std::optional<int64_t> get_optional_id(const nlohmann::json& j, const std::string& key, const std::string& file) {
  if (!present(j, key)) return std::nullopt;
  if (!j[key].is_number_integer()) fail(file, key, expected_found("an integer token id", j[key].dump()));
  return j[key].get<int64_t>();
}

// rope_scaling (v4) or rope_parameters (v5): the rope type and its numbers. `key` is the
// object's name in config.json. Its rope_theta / partial_rotary_factor override the top-level
// ones (transformers' standardize_rope_params).
void parse_rope_object(const nlohmann::json& rs, const std::string& key, const std::string& file,
                       bool top_level_original_max, DecoderConfig& c) {
  if (!rs.is_object()) fail(file, key, expected_found("an object or null", rs.dump()));
  for (const auto& item : rs.items())  // v5 keyed by layer type ({"full_attention": {...}, ...})
    if (item.value().is_object()) fail(file, key + "." + item.key(), "per-layer-type RoPE parameters are not supported");
  std::string type = "default";  // transformers' default when neither rope_type nor type is given
  for (const char* k : {"type", "rope_type"}) {
    if (!rs.contains(k)) continue;
    if (!rs[k].is_string()) fail(file, key + "." + k, expected_found("a string", rs[k].dump()));
    type = rs[k].get<std::string>();
  }
  const std::string kSupported = "default, linear, dynamic, llama3";
  std::set<std::string> allowed = {"rope_type", "type", "rope_theta", "partial_rotary_factor"};
  if (type == "default") {
    c.rope_scaling = RopeScalingType::None;
  } else if (type == "linear" || type == "dynamic" || type == "llama3") {
    c.rope_scaling = type == "linear" ? RopeScalingType::Linear
                     : type == "dynamic" ? RopeScalingType::Dynamic
                                         : RopeScalingType::Llama3;
    allowed.insert("factor");
    if (!rs.contains("factor") || !rs["factor"].is_number() || !(rs["factor"].get<double>() >= 1.0)) {
      fail(file, key + ".factor", expected_found("a number >= 1", rs.contains("factor") ? rs["factor"].dump() : "nothing"));
    }
    c.rope_scaling_factor = rs["factor"].get<double>();
    if (type == "llama3") {
      for (const char* k : {"low_freq_factor", "high_freq_factor"}) {
        allowed.insert(k);
        if (!rs.contains(k) || !rs[k].is_number() || !(rs[k].get<double>() > 0)) {
          fail(file, key + "." + k, expected_found("a positive number (required by llama3 RoPE)",
                                                   rs.contains(k) ? rs[k].dump() : "nothing"));
        }
      }
      c.rope_low_freq_factor = rs["low_freq_factor"].get<double>();
      c.rope_high_freq_factor = rs["high_freq_factor"].get<double>();
      if (!(c.rope_high_freq_factor > c.rope_low_freq_factor)) {
        fail(file, key + ".high_freq_factor",
             expected_found("a value above low_freq_factor " + rs["low_freq_factor"].dump(), rs["high_freq_factor"].dump()));
      }
      allowed.insert("original_max_position_embeddings");
      if (present(rs, "original_max_position_embeddings") && !top_level_original_max) {
        c.rope_original_max_position_embeddings = get_int(rs, "original_max_position_embeddings", file, true, 0);
      }
    }
  } else {
    fail(file, key + ".rope_type", "unsupported RoPE type '" + type + "' (supported: " + kSupported + ")");
  }
  for (const auto& item : rs.items()) {
    if (allowed.count(item.key())) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(file, key + "." + item.key(), "unsupported for RoPE type '" + type + "' (psy reads: " + list + ")");
  }
  if (present(rs, "rope_theta")) c.rope_theta = get_double(rs, "rope_theta", file, c.rope_theta);
  if (present(rs, "partial_rotary_factor")) c.partial_rotary_factor = get_double(rs, "partial_rotary_factor", file, 1.0);
}

}  // namespace

int64_t DecoderConfig::rotary_dim() const {
  return static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary_factor);
}

bool DecoderConfig::layer_uses_window(int64_t index) const {
  if (!sliding_window) return false;
  if (sliding_window_layers.empty()) return true;
  return index >= 0 && index < static_cast<int64_t>(sliding_window_layers.size()) &&
         sliding_window_layers[static_cast<std::size_t>(index)];
}

std::string supported_decoder_families() {
  std::string s;
  for (const auto& f : kFamilies) s += std::string(s.empty() ? "" : ", ") + f.model_type + " (" + f.architecture + ")";
  return s;
}

void apply_family_traits(DecoderConfig& c) {
  if (!find_family(c.model_type)) {
    throw Error("model_type: unsupported '" + c.model_type + "' (supported: " + supported_decoder_families() + ")");
  }
  if (c.model_type == "qwen2") c.qkv_bias = true;
  if (c.model_type == "qwen3") c.qk_norm = true;
  if (is_glm(c.model_type)) {
    c.fused_gate_up = true;
    c.rope_interleaved = true;
  }
  if (c.model_type == "glm4") c.sandwich_norms = true;
}

DecoderConfig parse_decoder_config(const std::string& json_text, const std::string& file) {
  nlohmann::json j = parse_json_text(json_text, file);
  if (!j.is_object()) throw Error(file + ": expected a JSON object");
  DecoderConfig c;
  if (!j.contains("model_type") || !j["model_type"].is_string()) {
    fail(file, "model_type", "missing or not a string (supported: " + supported_decoder_families() + ")");
  }
  c.model_type = j["model_type"].get<std::string>();
  const Family* family = find_family(c.model_type);
  if (!family) {
    fail(file, "model_type",
         "unsupported architecture '" + c.model_type + "' (supported: " + supported_decoder_families() + ")");
  }
  if (j.contains("architectures") && j["architectures"].is_array()) {
    for (const auto& a : j["architectures"]) {
      if (!a.is_string()) continue;
      const std::string name = a.get<std::string>();
      if (name != family->architecture) {
        fail(file, "architectures",
             "unsupported architecture '" + name + "' for model_type '" + c.model_type + "' (supported: " +
                 family->architecture + ")");
      }
    }
  }
  apply_family_traits(c);
  const bool glm = is_glm(c.model_type);
  c.vocab_size = get_int(j, "vocab_size", file, true, 0);
  c.hidden_size = get_int(j, "hidden_size", file, true, 0);
  c.intermediate_size = get_int(j, "intermediate_size", file, true, 0);
  c.num_hidden_layers = get_int(j, "num_hidden_layers", file, true, 0);
  c.num_attention_heads = get_int(j, "num_attention_heads", file, true, 0);
  c.num_key_value_heads = get_int(j, "num_key_value_heads", file, false, c.num_attention_heads);
  if (present(j, "head_dim")) {
    c.head_dim = get_int(j, "head_dim", file, true, 0);
  } else if (c.model_type == "qwen3" || glm) {
    c.head_dim = 128;  // the config classes' default
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      fail(file, "hidden_size", "hidden_size " + std::to_string(c.hidden_size) + " is not divisible by " +
                                    "num_attention_heads " + std::to_string(c.num_attention_heads) +
                                    " and no head_dim is given");
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    fail(file, "num_key_value_heads", "num_attention_heads " + std::to_string(c.num_attention_heads) +
                                          " is not a multiple of num_key_value_heads " +
                                          std::to_string(c.num_key_value_heads));
  }
  c.rms_norm_eps = get_double(j, "rms_norm_eps", file, glm ? 1.5625e-07 : 1e-6);
  c.max_position_embeddings = get_int(j, "max_position_embeddings", file, false, 2048);
  c.tie_word_embeddings = get_bool(j, "tie_word_embeddings", file, false);

  // RoPE as transformers reads it: a non-empty rope_scaling (v4) wins over rope_parameters (v5);
  // rope_theta / partial_rotary_factor inside it win over the top-level keys.
  c.rope_theta = get_double(j, "rope_theta", file, 10000.0);
  c.partial_rotary_factor = get_double(j, "partial_rotary_factor", file, glm ? 0.5 : 1.0);
  const bool top_original_max = present(j, "original_max_position_embeddings");
  c.rope_original_max_position_embeddings =
      get_int(j, "original_max_position_embeddings", file, false, c.max_position_embeddings);
  const bool has_scaling = present(j, "rope_scaling") && !(j["rope_scaling"].is_object() && j["rope_scaling"].empty());
  if (has_scaling) {
    parse_rope_object(j["rope_scaling"], "rope_scaling", file, top_original_max, c);
  } else if (present(j, "rope_parameters")) {
    parse_rope_object(j["rope_parameters"], "rope_parameters", file, top_original_max, c);
  }
  if (c.partial_rotary_factor > 1.0) {
    fail(file, "partial_rotary_factor", expected_found("a value in (0, 1]", std::to_string(c.partial_rotary_factor)));
  }
  if (!glm && c.partial_rotary_factor != 1.0) {
    fail(file, "partial_rotary_factor",
         "partial rotary embeddings are not part of " + std::string(family->architecture) + " (supported: 1.0)");
  }
  if (c.rotary_dim() < 2 || c.rotary_dim() % 2 != 0) {
    fail(file, "head_dim", "head_dim " + std::to_string(c.head_dim) + " x partial_rotary_factor " +
                               std::to_string(c.partial_rotary_factor) + " must give an even number of rotary dims");
  }

  // Sliding window: Mistral on every layer; Qwen2/Qwen3 per layer (use_sliding_window,
  // max_window_layers, or v5's layer_types); Llama and GLM have none (the key is ignored, as there).
  if (c.model_type == "mistral" || c.model_type == "qwen2" || c.model_type == "qwen3") {
    if (present(j, "sliding_window")) c.sliding_window = get_int(j, "sliding_window", file, true, 0);
    if (c.model_type == "mistral" && !j.contains("sliding_window")) c.sliding_window = 4096;  // MistralConfig's default
  }
  if (c.model_type == "qwen2" || c.model_type == "qwen3") {
    const bool use = get_bool(j, "use_sliding_window", file, false);
    if (!use) c.sliding_window.reset();
    else if (!j.contains("sliding_window")) c.sliding_window = 4096;  // the config classes' default
    if (present(j, "layer_types")) {
      const auto& lt = j["layer_types"];
      if (!lt.is_array() || static_cast<int64_t>(lt.size()) != c.num_hidden_layers) {
        fail(file, "layer_types", expected_found("a list of " + std::to_string(c.num_hidden_layers) + " layer types", lt.dump()));
      }
      for (const auto& t : lt) {
        const std::string s = t.is_string() ? t.get<std::string>() : t.dump();
        if (s != "full_attention" && s != "sliding_attention") {
          fail(file, "layer_types", "unsupported layer type '" + s + "' (supported: full_attention, sliding_attention)");
        }
        c.sliding_window_layers.push_back(s == "sliding_attention");
      }
      bool any = false;
      for (bool b : c.sliding_window_layers) any = any || b;
      if (any && !c.sliding_window) {
        fail(file, "layer_types", "sliding_attention layers need use_sliding_window true and a sliding_window");
      }
    } else if (c.sliding_window) {
      const int64_t from = get_int(j, "max_window_layers", file, false, c.num_hidden_layers, 0);
      for (int64_t i = 0; i < c.num_hidden_layers; ++i) c.sliding_window_layers.push_back(i >= from);
    }
    if (c.sliding_window && !c.sliding_window_layers.empty()) {
      bool any = false;
      for (bool b : c.sliding_window_layers) any = any || b;
      if (!any) {
        c.sliding_window.reset();
        c.sliding_window_layers.clear();
      }
    }
  }

  // Biases, per family as the modeling code reads them.
  const bool attention_bias = get_bool(j, "attention_bias", file, glm);
  const bool mlp_bias = get_bool(j, "mlp_bias", file, false);
  if (c.model_type == "llama" || c.model_type == "qwen3") {
    c.qkv_bias = c.o_bias = attention_bias;
  } else if (glm) {
    c.qkv_bias = attention_bias;
  } else if (attention_bias && c.model_type == "mistral") {
    fail(file, "attention_bias", "true is not part of MistralForCausalLM (supported: false)");
  }
  if (c.model_type == "llama") {
    c.mlp_bias = mlp_bias;
  } else if (mlp_bias) {
    fail(file, "mlp_bias", std::string("true is not part of ") + family->architecture + " (supported: false)");
  }
  if (present(j, "hidden_act")) {
    const std::string act = j["hidden_act"].is_string() ? j["hidden_act"].get<std::string>() : j["hidden_act"].dump();
    if (act != "silu" && act != "swish") fail(file, "hidden_act", "unsupported activation '" + act + "' (supported: silu)");
  }
  if (present(j, "quantization_config")) {
    fail(file, "quantization_config", "pre-quantized checkpoints are not supported; use the original weights");
  }
  if (present(j, "torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"].get<std::string>();
  if (present(j, "dtype") && j["dtype"].is_string()) c.torch_dtype = j["dtype"].get<std::string>();  // v5's name
  if (c.torch_dtype != "float32" && c.torch_dtype != "bfloat16" && c.torch_dtype != "float16") {
    fail(file, "torch_dtype", "unsupported '" + c.torch_dtype + "' (supported: float32, bfloat16, float16)");
  }
  if (present(j, "eos_token_id")) {
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
  const Family* family = find_family(c.model_type);
  if (!family) throw Error("model_type: unsupported '" + c.model_type + "' (supported: " + supported_decoder_families() + ")");
  j["architectures"] = {family->architecture};
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
  if (is_glm(c.model_type)) j["partial_rotary_factor"] = c.partial_rotary_factor;
  switch (c.rope_scaling) {
    case RopeScalingType::None: j["rope_scaling"] = nullptr; break;
    case RopeScalingType::Linear: j["rope_scaling"] = {{"type", "linear"}, {"factor", c.rope_scaling_factor}}; break;
    case RopeScalingType::Dynamic: j["rope_scaling"] = {{"type", "dynamic"}, {"factor", c.rope_scaling_factor}}; break;
    case RopeScalingType::Llama3:
      j["rope_scaling"] = {{"rope_type", "llama3"},
                           {"factor", c.rope_scaling_factor},
                           {"low_freq_factor", c.rope_low_freq_factor},
                           {"high_freq_factor", c.rope_high_freq_factor},
                           {"original_max_position_embeddings", c.rope_original_max_position_embeddings}};
      break;
  }
  j["max_position_embeddings"] = c.max_position_embeddings;
  if (c.model_type == "llama") {
    j["attention_bias"] = c.qkv_bias;
    j["mlp_bias"] = c.mlp_bias;
  } else if (c.model_type == "qwen3") {
    j["attention_bias"] = c.qkv_bias;
  } else if (is_glm(c.model_type)) {
    j["attention_bias"] = c.qkv_bias;
  }
  if (c.model_type == "qwen2" || c.model_type == "qwen3") {
    j["use_sliding_window"] = c.sliding_window.has_value();
    if (c.sliding_window) {
      std::vector<std::string> types;
      for (int64_t i = 0; i < c.num_hidden_layers; ++i)
        types.push_back(c.layer_uses_window(i) ? "sliding_attention" : "full_attention");
      j["layer_types"] = types;
    }
  }
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
