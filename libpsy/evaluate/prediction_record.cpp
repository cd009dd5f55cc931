#include "libpsy/evaluate/prediction_record.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "libpsy/core/error.h"
#include "libpsy/core/jsonl_reader.h"

namespace psy {

namespace {

nlohmann::ordered_json sections_json(const CotSections& s) {
  return {{"observation", s.observation}, {"reasoning", s.reasoning}, {"response", s.response}};
}

nlohmann::ordered_json values_json(const std::map<std::string, double>& m) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : m) j[k] = std::isnan(v) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
  return j;
}

std::string text_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw Error(where + ": field '" + key + "' is missing");
  if (!it->is_string()) throw Error(where + ": field '" + key + "': " + expected_found("a string", it->type_name()));
  return it->get<std::string>();
}

CotSections sections_from(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) throw Error(where + ": field '" + key + "': expected an object");
  CotSections s;
  s.observation = text_field(*it, "observation", where + " " + key);
  s.reasoning = text_field(*it, "reasoning", where + " " + key);
  s.response = text_field(*it, "response", where + " " + key);
  return s;
}

// Optional fields: absent gives the default; present with another type is an error naming the field.
bool optional_bool(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (!it->is_boolean()) throw Error(where + ": field '" + key + "': " + expected_found("true or false", it->type_name()));
  return it->get<bool>();
}

long optional_count(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (!it->is_number_integer()) throw Error(where + ": field '" + key + "': " + expected_found("an integer", it->type_name()));
  return it->get<long>();
}

std::vector<std::string> optional_texts(const nlohmann::json& j, const char* key, const std::string& where) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end()) return out;
  if (!it->is_array()) throw Error(where + ": field '" + key + "': " + expected_found("a list of strings", it->type_name()));
  for (const auto& v : *it) {
    if (!v.is_string()) throw Error(where + ": field '" + key + "': " + expected_found("a list of strings", "a " + std::string(v.type_name()) + " in it"));
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::map<std::string, double> values_from(const nlohmann::json& j) {
  std::map<std::string, double> m;
  for (auto it = j.begin(); it != j.end(); ++it) m[it.key()] = it->is_number() ? it->get<double>() : std::nan("");
  return m;
}

}  // namespace

nlohmann::ordered_json to_json(const PredictionRecord& r) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["session"] = r.session;
  j["turn"] = r.turn;
  j["task"] = r.task;
  j["prompt"] = r.prompt;
  if (!r.retrieved.empty()) j["retrieved"] = r.retrieved;
  j["gold"] = sections_json(r.gold);
  j["generation"] = r.generation;
  auto parsed = sections_json(r.parsed);
  parsed["well_formed"] = r.well_formed;
  j["parsed"] = parsed;
  j["new_tokens"] = r.new_tokens;
  if (!r.scores.empty()) j["scores"] = values_json(r.scores);
  if (!r.section_scores.empty()) {
    nlohmann::ordered_json s = nlohmann::ordered_json::object();
    for (const auto& [section, values] : r.section_scores) s[section] = values_json(values);
    j["section_scores"] = s;
  }
  return j;
}

PredictionRecord record_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": " + expected_found("a JSON object", j.type_name()));
  PredictionRecord r;
  r.id = text_field(j, "id", where);
  r.session = text_field(j, "session", where);
  r.turn = text_field(j, "turn", where);
  r.task = text_field(j, "task", where);
  r.prompt = text_field(j, "prompt", where);
  r.retrieved = optional_texts(j, "retrieved", where);
  r.gold = sections_from(j, "gold", where);
  r.generation = text_field(j, "generation", where);
  r.parsed = sections_from(j, "parsed", where);
  r.well_formed = optional_bool(j.at("parsed"), "well_formed", where + " parsed");
  r.new_tokens = optional_count(j, "new_tokens", where);
  if (auto it = j.find("scores"); it != j.end() && it->is_object()) r.scores = values_from(*it);
  if (auto it = j.find("section_scores"); it != j.end() && it->is_object())
    for (auto s = it->begin(); s != it->end(); ++s)
      if (s->is_object()) r.section_scores[s.key()] = values_from(*s);
  return r;
}

namespace {

JsonlOptions predictions_jsonl_options() {
  JsonlOptions o;
  o.torn_last_line = TornLastLine::Drop;  // psy eval appends line by line: a kill may cut the last one
  o.invalid_hint = "predictions.jsonl is damaged; use --overwrite to start again";
  return o;
}

}  // namespace

std::vector<PredictionRecord> read_predictions_text(const std::string& text, const std::string& name,
                                                    size_t* dropped_partial) {
  std::vector<PredictionRecord> out;
  const size_t torn = for_each_jsonl_line_in(
      text, name, [&out](const JsonLine& l) { out.push_back(record_from_json(l.value, l.where)); },
      predictions_jsonl_options());
  if (dropped_partial) *dropped_partial = torn;
  return out;
}

std::vector<PredictionRecord> read_predictions(const std::string& path, size_t* dropped_partial) {
  if (dropped_partial) *dropped_partial = 0;
  if (path.empty() || !std::filesystem::exists(path)) return {};
  std::vector<PredictionRecord> out;
  const size_t torn = for_each_jsonl_line(
      path, [&out](const JsonLine& l) { out.push_back(record_from_json(l.value, l.where)); },
      predictions_jsonl_options());
  if (dropped_partial) *dropped_partial = torn;
  return out;
}

}  // namespace psy
