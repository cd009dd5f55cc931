#include "libpsy/nn/peft_adapter_io.h"

#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/remove_tree.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/io/safetensors.h"
#include "libpsy/nn/adapter_rank_check.h"

namespace psy {

namespace {

const std::string kPrefix = "base_model.model.";

[[noreturn]] void fail(const std::string& file, const std::string& field, const std::string& problem) {
  ErrorLocation where;
  where.file = file;
  where.field = field;
  throw Error(where, problem);
}

std::string last_component(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

bool is_empty_or_null(const nlohmann::json& j, const std::string& key) {
  if (!j.contains(key) || j[key].is_null()) return true;
  return (j[key].is_object() || j[key].is_array()) && j[key].empty();
}

// A saved base weight (PEFT's save_embedding_layers) replaces the projection's, as PEFT's
// loading does. It is almost always the base's own weight, so an equal one changes nothing; a
// different one is copied in, except onto an NF4 base, which cannot take it exactly.
void apply_saved_base_weight(ProjectionImpl& p, const torch::Tensor& saved, const std::string& file,
                             const std::string& key) {
  if (saved.sizes() != p.weight.sizes()) {
    throw Error(file + ": tensor '" + key + "' has shape " + shape_text(saved.sizes().vec()) + ", the model's weight " +
                shape_text(p.weight.sizes().vec()));
  }
  if (p.nf4) {
    throw Error(file + ": tensor '" + key + "' replaces a base weight, which an NF4-quantised model cannot take; "
                "load the model unquantised");
  }
  torch::NoGradGuard no_grad;
  torch::Tensor converted = saved.to(p.weight.device(), p.weight.scalar_type());
  if (!torch::equal(converted, p.weight)) p.weight.copy_(converted);
}

}  // namespace

std::string peft_tensor_key(const std::string& module_path, const std::string& part) {
  return kPrefix + module_path + "." + part + ".weight";
}

PeftAdapterConfig load_peft_adapter_config(const std::string& dir) {
  const std::string file = dir + "/adapter_config.json";
  nlohmann::json j = read_json_file(file);
  if (!j.is_object()) throw Error(file + ": expected a JSON object");
  PeftAdapterConfig c;
  if (j.contains("peft_type") && j["peft_type"] != "LORA") fail(file, "peft_type", expected_found("\"LORA\"", j["peft_type"].dump()));
  if (!j.contains("r") || !j["r"].is_number_integer() || j["r"].get<int64_t>() <= 0) {
    fail(file, "r", expected_found("a positive integer", j.contains("r") ? j["r"].dump() : "nothing"));
  }
  c.r = j["r"].get<int64_t>();
  if (!j.contains("lora_alpha") || !j["lora_alpha"].is_number()) fail(file, "lora_alpha", "missing or not a number");
  c.lora_alpha = j["lora_alpha"].get<double>();
  if (j.contains("lora_dropout") && j["lora_dropout"].is_number()) c.lora_dropout = j["lora_dropout"].get<double>();
  if (j.contains("use_rslora") && j["use_rslora"].is_boolean()) c.use_rslora = j["use_rslora"].get<bool>();
  if (j.contains("use_dora") && j["use_dora"].is_boolean() && j["use_dora"].get<bool>()) fail(file, "use_dora", "DoRA adapters are not supported");
  if (j.contains("bias") && j["bias"].is_string() && j["bias"] != "none") fail(file, "bias", "only \"none\" is supported");
  if (j.contains("fan_in_fan_out") && j["fan_in_fan_out"].is_boolean() && j["fan_in_fan_out"].get<bool>()) {
    fail(file, "fan_in_fan_out", "true is not supported (Llama/Mistral use nn.Linear)");
  }
  for (const char* key : {"rank_pattern", "alpha_pattern", "modules_to_save"}) {
    if (!is_empty_or_null(j, key)) fail(file, key, "must be empty: per-module ranks/alphas and saved modules are not supported");
  }
  if (j.contains("target_modules") && j["target_modules"].is_array()) {
    for (const auto& t : j["target_modules"]) {
      if (t.is_string()) c.target_modules.push_back(t.get<std::string>());
    }
  }
  if (j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string()) {
    c.base_model_name_or_path = j["base_model_name_or_path"].get<std::string>();
  }
  return c;
}

int load_peft_adapter(DecoderImpl& decoder, const std::string& dir) {
  PeftAdapterConfig config = load_peft_adapter_config(dir);
  const std::string file = dir + "/adapter_model.safetensors";
  SafetensorsReader reader(file);
  check_adapter_rank(reader, config.r, dir);  // issue 18: adapter_config.json's r must match the tensors
  std::map<std::string, Projection> by_path;
  for (auto& [path, p] : decoder.projections()) by_path.emplace(path, p);
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> found;
  // An adapter of another base fails on a module or a shape: say which base it was made for.
  const std::string made_for = config.base_model_name_or_path.empty()
                                   ? std::string()
                                   : " (an adapter for another base? adapter_config.json names base_model_name_or_path '" +
                                         config.base_model_name_or_path + "')";
  for (const auto& key : reader.names()) {
    std::string rest = key;
    if (rest.compare(0, kPrefix.size(), kPrefix) != 0) {
      throw Error(file + ": tensor '" + key + "' does not start with '" + kPrefix + "' (not a PEFT LoRA key)");
    }
    rest = rest.substr(kPrefix.size());
    std::string part;
    for (const char* suffix : {".lora_A.weight", ".lora_B.weight", ".lora_A.default.weight", ".lora_B.default.weight"}) {
      const std::string s = suffix;
      if (rest.size() > s.size() && rest.compare(rest.size() - s.size(), s.size(), s) == 0) {
        part = s.substr(1, 6);
        rest = rest.substr(0, rest.size() - s.size());
        break;
      }
    }
    const std::string base_suffix = ".base_layer.weight";
    if (part.empty() && rest.size() > base_suffix.size() &&
        rest.compare(rest.size() - base_suffix.size(), base_suffix.size(), base_suffix) == 0) {
      // PEFT saves the base weight of a targeted lm_head/embedding (save_embedding_layers).
      const std::string module = rest.substr(0, rest.size() - base_suffix.size());
      if (!by_path.count(module)) {
        throw Error(file + ": tensor '" + key + "' names '" + module + "', which is not a projection of this " +
                    decoder.config().model_type + " decoder" + made_for);
      }
      apply_saved_base_weight(*by_path.at(module), reader.tensor(key), file, key);
      continue;
    }
    if (part.empty()) throw Error(file + ": tensor '" + key + "' is not a lora_A/lora_B weight");
    if (!by_path.count(rest)) {
      throw Error(file + ": tensor '" + key + "' targets '" + rest + "', which is not a projection of this " +
                  decoder.config().model_type + " decoder" + made_for);
    }
    (part == "lora_A" ? found[rest].first : found[rest].second) = reader.tensor(key);
  }
  for (auto& [path, ab] : found) {
    if (!ab.first.defined() || !ab.second.defined()) {
      throw Error(file + ": module '" + path + "' has only one of lora_A and lora_B");
    }
    try {
      by_path.at(path)->set_lora(ab.first, ab.second, config.lora_alpha, config.lora_dropout, config.use_rslora);
    } catch (const Error& e) {
      throw Error(file + ": module '" + path + "': " + e.what() + made_for);
    }
  }
  return static_cast<int>(found.size());
}

void save_peft_adapter(const DecoderImpl& decoder, const std::string& dir, const std::string& base_model_path) {
  NamedTensors tensors;
  std::set<std::string> targets;
  const ProjectionImpl* first = nullptr;
  for (const auto& [path, p] : decoder.projections()) {
    if (!p->has_lora()) continue;
    if (!first) {
      first = p.get();
    } else if (p->lora_rank() != first->lora_rank() || p->lora_alpha != first->lora_alpha ||
               p->lora_dropout != first->lora_dropout || p->lora_rslora != first->lora_rslora) {
      throw Error("save_peft_adapter: projection '" + path + "' has a different r/alpha/dropout/rsLoRA than the others; "
                  "PEFT's single adapter config cannot describe it", kExitFailure);
    }
    targets.insert(last_component(path));
    tensors.emplace_back(peft_tensor_key(path, "lora_A"), p->lora_A);
    tensors.emplace_back(peft_tensor_key(path, "lora_B"), p->lora_B);
  }
  if (!first) throw Error("save_peft_adapter: the decoder has no LoRA adapters to save", kExitFailure);
  nlohmann::ordered_json j;
  j["alpha_pattern"] = nlohmann::json::object();
  j["auto_mapping"] = nullptr;
  j["base_model_name_or_path"] = base_model_path;
  j["bias"] = "none";
  j["fan_in_fan_out"] = false;
  j["inference_mode"] = true;
  j["init_lora_weights"] = true;
  j["layer_replication"] = nullptr;
  j["layers_pattern"] = nullptr;
  j["layers_to_transform"] = nullptr;
  j["loftq_config"] = nlohmann::json::object();
  if (std::floor(first->lora_alpha) == first->lora_alpha) {
    j["lora_alpha"] = static_cast<int64_t>(first->lora_alpha);
  } else {
    j["lora_alpha"] = first->lora_alpha;
  }
  j["lora_dropout"] = first->lora_dropout;
  j["megatron_config"] = nullptr;
  j["megatron_core"] = "megatron.core";
  j["modules_to_save"] = nullptr;
  j["peft_type"] = "LORA";
  j["r"] = first->lora_rank();
  j["rank_pattern"] = nlohmann::json::object();
  j["revision"] = nullptr;
  j["target_modules"] = std::vector<std::string>(targets.begin(), targets.end());
  j["task_type"] = "CAUSAL_LM";
  j["use_dora"] = false;
  j["use_rslora"] = first->lora_rslora;
  // Whole or not at all: a kill between the two files left adapter/ with tensors and no config.
  // Written under DIR.tmp.PID (a run folder's start removes such leftovers), then put in place.
  std::filesystem::path target = std::filesystem::path(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  const std::string tmp = target.string() + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  remove_tree(tmp, ec);
  make_dirs(tmp);
  try {
    write_safetensors(tmp + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
    write_file_atomic(tmp + "/adapter_config.json", j.dump(2) + "\n");
  } catch (...) {
    remove_tree(tmp, ec);
    throw;
  }
  replace_folder(tmp, target.string());
}

}  // namespace psy
