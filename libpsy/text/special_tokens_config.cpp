#include "libpsy/text/special_tokens_config.h"

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace psy {

std::string config_token_text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

namespace {

void read_config_file(const std::string& path, ConfigTokens& out) {
  if (!path_exists(path)) return;
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw Error(path + ": " + expected_found("a JSON object", j.type_name()));
  auto take = [&](const char* key, std::string& slot) {
    if (!j.contains(key)) return;
    std::string t = config_token_text(j[key]);
    if (!t.empty()) {
      slot = t;
      out.special.insert(t);
    }
  };
  if (j.contains("bos_token")) out.bos_named = true;
  if (j.contains("eos_token")) out.eos_named = true;
  if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) out.add_bos_token = j["add_bos_token"].get<bool>();
  if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) out.add_eos_token = j["add_eos_token"].get<bool>();
  take("bos_token", out.bos);
  take("eos_token", out.eos);
  take("unk_token", out.unk);
  take("pad_token", out.pad);
  if (j.contains("additional_special_tokens") && j["additional_special_tokens"].is_array()) {
    for (const auto& t : j["additional_special_tokens"]) {
      std::string s = config_token_text(t);
      if (!s.empty()) out.special.insert(s);
    }
  }
  if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object()) {
    for (auto it = j["added_tokens_decoder"].begin(); it != j["added_tokens_decoder"].end(); ++it) {
      std::string content = config_token_text(it.value());
      if (content.empty()) continue;
      try {
        out.added[content] = static_cast<int32_t>(std::stol(it.key()));
      } catch (const std::exception&) {
        throw Error(path + ": added_tokens_decoder key '" + it.key() + "' is not a token id");
      }
      if (it.value().is_object() && it.value().value("special", false)) out.special.insert(content);
    }
  }
}

void read_added_tokens_json(const std::string& path, ConfigTokens& out) {
  if (!path_exists(path)) return;
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_number_integer()) {
      out.added[it.key()] = it.value().get<int32_t>();
      out.special.insert(it.key());
    }
  }
}

}  // namespace

ConfigTokens read_config_tokens(const std::string& dir) {
  ConfigTokens cfg;
  if (dir.empty()) return cfg;
  read_config_file(dir + "/special_tokens_map.json", cfg);
  read_config_file(dir + "/tokenizer_config.json", cfg);
  read_added_tokens_json(dir + "/added_tokens.json", cfg);
  return cfg;
}

}  // namespace psy
