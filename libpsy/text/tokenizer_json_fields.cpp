#include "libpsy/text/tokenizer_json_fields.h"

#include "libpsy/core/error.h"

namespace psy {

namespace {

std::string brief(const nlohmann::json& j) {
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string prefix(const JsonSpot& at) { return at.file + ": key '" + (at.key.empty() ? std::string("(top level)") : at.key) + "'"; }

}  // namespace

void throw_unsupported(const JsonSpot& at, const std::string& found, const std::string& supported) {
  throw Error(prefix(at) + ": " + found + " is not supported (supported: " + supported + ")");
}

void throw_bad_value(const JsonSpot& at, const std::string& expected, const nlohmann::json& found) {
  throw Error(prefix(at) + ": " + expected_found(expected, brief(found)));
}

const nlohmann::json& require_object(const nlohmann::json& j, const JsonSpot& at) {
  if (!j.is_object()) throw_bad_value(at, "an object", j);
  return j;
}

void check_keys(const nlohmann::json& obj, const JsonSpot& at, const std::vector<std::string>& allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == "type") continue;
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == it.key();
    if (!ok) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw_unsupported(at.child(it.key()), "this key", list.empty() ? "no other keys" : list);
    }
  }
}

std::string get_string(const nlohmann::json& obj, const std::string& key, const JsonSpot& at) {
  if (!obj.contains(key)) throw Error(prefix(at.child(key)) + ": missing");
  if (!obj[key].is_string()) throw_bad_value(at.child(key), "a string", obj[key]);
  return obj[key].get<std::string>();
}

std::string get_string_or(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, const std::string& fallback) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_string()) throw_bad_value(at.child(key), "a string or null", obj[key]);
  return obj[key].get<std::string>();
}

bool get_bool_or(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, bool fallback) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_boolean()) throw_bad_value(at.child(key), "true or false", obj[key]);
  return obj[key].get<bool>();
}

long get_int_or(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, long fallback) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_number_integer()) throw_bad_value(at.child(key), "an integer", obj[key]);
  return obj[key].get<long>();
}

std::string get_pattern(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, bool& regex) {
  const JsonSpot here = at.child(key);
  if (!obj.contains(key)) throw Error(prefix(here) + ": missing");
  const auto& p = obj[key];
  if (p.is_object() && p.size() == 1 && p.contains("String") && p["String"].is_string()) {
    regex = false;
    return p["String"].get<std::string>();
  }
  if (p.is_object() && p.size() == 1 && p.contains("Regex") && p["Regex"].is_string()) {
    regex = true;
    return p["Regex"].get<std::string>();
  }
  throw_bad_value(here, "{\"String\": ...} or {\"Regex\": ...}", p);
}

}  // namespace psy
