#include "libpsy/judge/judgement.h"


#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/jsonl_reader.h"
#include "libpsy/core/text_file.h"

namespace psy::judge {

nlohmann::ordered_json to_json(const Judgement& j) {
  nlohmann::ordered_json o;
  o["id"] = j.id;
  o["key"] = j.key;
  o["scored"] = j.scored;
  if (j.scored) {
    nlohmann::ordered_json s = nlohmann::ordered_json::object();
    for (const auto& [k, v] : j.scores) s[k] = v;
    o["scores"] = s;
  } else {
    o["scores"] = nullptr;
  }
  o["attempts"] = j.answers.size();
  o["answers"] = j.answers;
  o["problems"] = j.problems;
  return o;
}

Judgement judgement_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": " + expected_found("a JSON object", j.type_name()));
  auto str = [&](const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) throw Error(where + ": field '" + key + "': expected a string");
    return it->get<std::string>();
  };
  auto strings = [&](const char* key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) throw Error(where + ": field '" + key + "': expected a list of strings");
    for (const auto& e : *it) {
      if (!e.is_string()) throw Error(where + ": field '" + key + "': expected a list of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  };
  Judgement out;
  out.id = str("id");
  out.key = str("key");
  auto scored = j.find("scored");
  if (scored == j.end() || !scored->is_boolean()) throw Error(where + ": field 'scored': expected true or false");
  out.scored = scored->get<bool>();
  if (out.scored) {
    auto s = j.find("scores");
    if (s == j.end() || !s->is_object()) throw Error(where + ": field 'scores': expected an object of integers");
    for (auto it = s->begin(); it != s->end(); ++it) {
      if (!it->is_number_integer()) throw Error(where + ": field 'scores." + it.key() + "': expected an integer");
      out.scores[it.key()] = it->get<int>();
    }
  }
  out.answers = strings("answers");
  out.problems = strings("problems");
  return out;
}

std::vector<Judgement> read_judgements(const std::string& path) {
  std::vector<Judgement> out;
  if (path.empty() || !path_exists(path)) return out;
  JsonlOptions options;
  options.invalid_hint = "expected one judgement per line; use --overwrite to judge again";
  for_each_jsonl_line(
      path, [&out](const JsonLine& l) { out.push_back(judgement_from_json(l.value, l.where)); }, options);
  return out;
}

void write_judgements(const std::string& path, const std::vector<Judgement>& judgements) {
  write_file_atomic(path, [&](std::ostream& o) {
    for (const auto& j : judgements) o << to_json(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
}

}  // namespace psy::judge
