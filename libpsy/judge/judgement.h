// One line of judgements.jsonl: what the judge answered about one prediction. No LibTorch.
//   {"id", "key", "scored": bool, "scores": {dimension: int} | null, "attempts": n,
//    "answers": [raw answer per attempt], "problems": [why an attempt could not be read]}
// `key` fingerprints everything the judgement depends on (rubric, judge model, template,
// decoding, the texts shown): a rerun reuses a line only when its id and key both match.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace psy::judge {

struct Judgement {
  std::string id, key;
  bool scored = false;
  std::map<std::string, int> scores;   // every dimension when scored
  std::vector<std::string> answers;    // one per attempt (1, or 2 after a retry)
  std::vector<std::string> problems;   // one per malformed attempt
};

nlohmann::ordered_json to_json(const Judgement& j);
// Throws psy::Error naming `where` (FILE:LINE) and the field.
Judgement judgement_from_json(const nlohmann::json& j, const std::string& where);
// Every line of a judgements.jsonl ("" or no file: none); a malformed line is a psy::Error.
std::vector<Judgement> read_judgements(const std::string& path);
// The whole file, one line per judgement, written atomically.
void write_judgements(const std::string& path, const std::vector<Judgement>& judgements);

}  // namespace psy::judge
