#include "libpsy/text/jinja_chat_template.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/text/special_tokens_config.h"

namespace psy {

namespace {

const char* const kSpecialKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                    "pad_token", "cls_token", "mask_token"};

void read_special(const nlohmann::json& j, std::vector<std::pair<std::string, std::string>>& out) {
  if (!j.is_object()) return;
  for (const char* key : kSpecialKeys) {
    if (!j.contains(key)) continue;
    std::string v = config_token_text(j[key]);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
    if (v.empty()) {
      if (j[key].is_null() && it != out.end()) out.erase(it);
      continue;
    }
    if (it != out.end()) it->second = v;
    else out.emplace_back(key, v);
  }
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

jinja::Value message_value(const TemplateMessage& m) {
  jinja::ValueDict d;
  if (m.reasoning_content) d.set("thinking", jinja::Value(*m.reasoning_content));  // transformers' alias
  d.set("role", jinja::Value(m.role));
  d.set("content", jinja::Value(m.content));
  if (m.reasoning_content) d.set("reasoning_content", jinja::Value(*m.reasoning_content));
  return jinja::Value(std::move(d));
}

}  // namespace

std::vector<TemplateMessage> template_messages_from_json(const std::string& messages_json_text,
                                                         const std::string& where) {
  const nlohmann::json j = parse_json_text(messages_json_text, where);
  if (!j.is_array() || j.empty())
    throw Error(where + ": messages: " + expected_found("a non-empty list of messages", j.type_name()));
  std::vector<TemplateMessage> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& m = j[i];
    const std::string at = where + ": message " + std::to_string(i);
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw Error(at + ": " + expected_found("an object with a string \"role\"", m.dump().substr(0, 60)));
    TemplateMessage t;
    t.role = m["role"].get<std::string>();
    if (m.contains("content") && !m["content"].is_null()) {
      if (!m["content"].is_string())
        throw Error(at + ": content: " + expected_found("a string", m["content"].type_name()));
      t.content = m["content"].get<std::string>();
    }
    if (m.contains("reasoning_content") && !m["reasoning_content"].is_null()) {
      if (!m["reasoning_content"].is_string())
        throw Error(at + ": reasoning_content: " + expected_found("a string", m["reasoning_content"].type_name()));
      t.reasoning_content = m["reasoning_content"].get<std::string>();
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::optional<JinjaChatTemplate> JinjaChatTemplate::find(const std::string& model_dir) {
  const std::string config_path = model_dir + "/tokenizer_config.json";
  const std::string jinja_path = model_dir + "/chat_template.jinja";
  nlohmann::json config;
  if (path_exists(config_path)) config = read_json_file(config_path);

  std::string source, name;
  if (path_exists(jinja_path)) {
    source = read_text_file(jinja_path);
    name = jinja_path;
  } else if (config.is_object() && config.contains("chat_template") && !config["chat_template"].is_null()) {
    const nlohmann::json& t = config["chat_template"];
    name = config_path + " (chat_template)";
    if (t.is_string()) {
      source = t.get<std::string>();
    } else if (t.is_array()) {
      for (const auto& item : t)
        if (item.is_object() && item.value("name", "") == "default" && item.contains("template") &&
            item["template"].is_string())
          source = item["template"].get<std::string>();
      if (source.empty())
        throw Error(config_path + ": chat_template is a list without a \"default\" template (psy renders the "
                    "default one)");
      name = config_path + " (chat_template \"default\")";
    } else {
      throw Error(config_path + ": chat_template: " + expected_found("a string or a list of named templates",
                                                                    t.type_name()));
    }
  } else {
    return std::nullopt;
  }

  std::vector<std::pair<std::string, std::string>> special;
  const std::string map_path = model_dir + "/special_tokens_map.json";
  if (path_exists(map_path)) read_special(read_json_file(map_path), special);
  read_special(config, special);

  std::vector<std::string> added;
  const std::string tok_json = model_dir + "/tokenizer.json";
  if (path_exists(tok_json)) {
    nlohmann::json tj = read_json_file(tok_json);
    if (tj.is_object() && tj.contains("added_tokens") && tj["added_tokens"].is_array())
      for (const auto& a : tj["added_tokens"]) add_unique(added, config_token_text(a));
  }
  if (config.is_object() && config.contains("added_tokens_decoder") && config["added_tokens_decoder"].is_object())
    for (const auto& kv : config["added_tokens_decoder"].items()) add_unique(added, config_token_text(kv.value()));
  for (const auto& kv : special) add_unique(added, kv.second);
  return from_source(source, name, std::move(special), std::move(added));
}

JinjaChatTemplate JinjaChatTemplate::from_source(const std::string& source, const std::string& source_name,
                                                 std::vector<std::pair<std::string, std::string>> special_tokens,
                                                 std::vector<std::string> added_tokens) {
  JinjaChatTemplate t;
  t.template_ = jinja::Template::parse(source, source_name);
  t.special_ = std::move(special_tokens);
  t.added_ = std::move(added_tokens);
  for (const auto& kv : t.special_) add_unique(t.added_, kv.second);
  return t;
}

std::string JinjaChatTemplate::render(const std::vector<TemplateMessage>& messages, bool add_generation_prompt) const {
  if (messages.empty())
    throw Error(source_name() + ": cannot apply a chat template to an empty conversation", kExitFailure);
  jinja::ValueDict vars;
  for (const auto& kv : special_) vars.set(kv.first, jinja::Value(kv.second));
  jinja::ValueList list;
  for (const auto& m : messages) list.push_back(message_value(m));
  vars.set("messages", jinja::Value(std::move(list)));
  vars.set("tools", jinja::Value::none());
  vars.set("documents", jinja::Value::none());
  vars.set("add_generation_prompt", jinja::Value(add_generation_prompt));
  return template_.render(vars);
}

}  // namespace psy
