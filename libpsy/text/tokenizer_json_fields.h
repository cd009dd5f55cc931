// Reading the parts of a tokenizer.json with one-line errors that name the file and the key path,
// e.g. "models/x/tokenizer.json: key 'pre_tokenizer.pretokenizers[1].type': 'Whitespace' is not
// supported (supported: Split, ByteLevel, Metaspace, Digits, Sequence)".
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace psy {

// Where a value sits: the file and the key path inside it.
struct JsonSpot {
  std::string file;
  std::string key;  // "pre_tokenizer.pretokenizers[1]"; "" = the top level
  JsonSpot child(const std::string& name) const { return {file, key.empty() ? name : key + "." + name}; }
  JsonSpot index(size_t i) const { return {file, key + "[" + std::to_string(i) + "]"}; }
};

[[noreturn]] void throw_unsupported(const JsonSpot& at, const std::string& found, const std::string& supported);
[[noreturn]] void throw_bad_value(const JsonSpot& at, const std::string& expected, const nlohmann::json& found);

// The object at `at` must hold only keys from `allowed` ("type" is always allowed).
void check_keys(const nlohmann::json& obj, const JsonSpot& at, const std::vector<std::string>& allowed);
const nlohmann::json& require_object(const nlohmann::json& j, const JsonSpot& at);
std::string get_string(const nlohmann::json& obj, const std::string& key, const JsonSpot& at);  // required
std::string get_string_or(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, const std::string& fallback);
bool get_bool_or(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, bool fallback);
long get_int_or(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, long fallback);
// A {"String": s} or {"Regex": r} pattern; regex set to true for the latter.
std::string get_pattern(const nlohmann::json& obj, const std::string& key, const JsonSpot& at, bool& regex);

}  // namespace psy
