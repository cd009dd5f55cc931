#include "libpsy/text/post_processor.h"

namespace psy {

namespace {

const char* kSupported = "TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence";

// ["<s>", 0] -> 0
int32_t token_pair_id(const nlohmann::json& j, const std::string& key, const JsonSpot& at) {
  const JsonSpot here = at.child(key);
  if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2 || !j[key][0].is_string() || !j[key][1].is_number_integer())
    throw_bad_value(here, "[\"token\", id]", j.value(key, nlohmann::json()));
  return j[key][1].get<int32_t>();
}

PostProcessor parse_template(const nlohmann::json& j, const JsonSpot& at) {
  check_keys(j, at, {"single", "pair", "special_tokens"});
  PostProcessor p;
  const JsonSpot single_at = at.child("single");
  if (!j.contains("single") || !j["single"].is_array()) throw_bad_value(single_at, "a list", j.value("single", nlohmann::json()));
  const nlohmann::json specials = j.contains("special_tokens") ? j["special_tokens"] : nlohmann::json::object();
  if (!specials.is_object()) throw_bad_value(at.child("special_tokens"), "an object", specials);
  bool seen_sequence = false;
  for (size_t i = 0; i < j["single"].size(); ++i) {
    const auto& item = j["single"][i];
    const JsonSpot item_at = single_at.index(i);
    if (item.is_object() && item.contains("Sequence")) {
      if (seen_sequence) throw_unsupported(item_at, "a second Sequence in the single template", "one $A");
      const auto& seq = item["Sequence"];
      if (!seq.is_object() || seq.value("id", std::string()) != "A")
        throw_unsupported(item_at, "a Sequence other than $A", "$A in the single template");
      seen_sequence = true;
      continue;
    }
    if (!item.is_object() || !item.contains("SpecialToken") || !item["SpecialToken"].is_object() ||
        !item["SpecialToken"].contains("id") || !item["SpecialToken"]["id"].is_string())
      throw_bad_value(item_at, "{\"SpecialToken\": {\"id\": ...}} or {\"Sequence\": {\"id\": \"A\"}}", item);
    const std::string name = item["SpecialToken"]["id"].get<std::string>();
    if (!specials.contains(name)) throw_bad_value(at.child("special_tokens"), "an entry for '" + name + "'", specials);
    const auto& entry = specials[name];
    if (!entry.is_object() || !entry.contains("ids") || !entry["ids"].is_array())
      throw_bad_value(at.child("special_tokens").child(name), "{\"ids\": [...]}", entry);
    for (const auto& id : entry["ids"]) {
      if (!id.is_number_integer()) throw_bad_value(at.child("special_tokens").child(name).child("ids"), "integer ids", entry["ids"]);
      (seen_sequence ? p.suffix : p.prefix).push_back(id.get<int32_t>());
    }
  }
  if (!seen_sequence) throw_unsupported(single_at, "a template without $A", "templates that include $A");
  return p;
}

}  // namespace

PostProcessor parse_post_processor(const nlohmann::json& j, const JsonSpot& at) {
  PostProcessor p;
  if (j.is_null()) return p;
  require_object(j, at);
  const std::string type = get_string(j, "type", at);
  if (type == "TemplateProcessing") return parse_template(j, at);
  if (type == "ByteLevel") {
    check_keys(j, at, {"add_prefix_space", "trim_offsets", "use_regex"});
    return p;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    check_keys(j, at, {"sep", "cls", "trim_offsets", "add_prefix_space"});
    p.prefix.push_back(token_pair_id(j, "cls", at));
    p.suffix.push_back(token_pair_id(j, "sep", at));
    return p;
  }
  if (type == "Sequence") {
    check_keys(j, at, {"processors"});
    if (!j.contains("processors") || !j["processors"].is_array()) throw_bad_value(at.child("processors"), "a list", j.value("processors", nlohmann::json()));
    for (size_t i = 0; i < j["processors"].size(); ++i) {
      PostProcessor inner = parse_post_processor(j["processors"][i], at.child("processors").index(i));
      // Each processor wraps what the previous ones produced.
      inner.prefix.insert(inner.prefix.end(), p.prefix.begin(), p.prefix.end());
      p.suffix.insert(p.suffix.end(), inner.suffix.begin(), inner.suffix.end());
      p.prefix = std::move(inner.prefix);
    }
    return p;
  }
  throw_unsupported(at.child("type"), "'" + type + "'", kSupported);
}

}  // namespace psy
