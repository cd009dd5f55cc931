// One line of predictions.jsonl and the file's resume logic. No LibTorch.
//   {"id", "session", "turn", "task", "prompt", ["retrieved"], "gold": {observation, reasoning, response},
//    "generation" (raw text), "parsed": {observation, reasoning, response, well_formed},
//    "new_tokens", "scores": {metric: value}, "section_scores": {"observation": {...}, ...}}
// The file is appended line by line (flushed) while generating; scores are added when scoring
// rewrites it at the end. "retrieved" (rag tasks only): the dialog ids of the training cases in
// the prompt, best first.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/data/sample_builder.h"
#include "libpsy/evaluate/generated_cot.h"

namespace psy {

struct PredictionRecord {
  std::string id, session, turn, task, prompt;
  std::vector<std::string> retrieved;  // rag tasks: dialog ids of the cases in the prompt, best first
  CotSections gold;
  std::string generation;
  CotSections parsed;
  bool well_formed = false;
  long new_tokens = 0;
  std::map<std::string, double> scores;  // NaN = undefined (written as null)
  std::map<std::string, std::map<std::string, double>> section_scores;
};

nlohmann::ordered_json to_json(const PredictionRecord& r);
// Throws psy::Error naming `where` (FILE:LINE) and the field.
PredictionRecord record_from_json(const nlohmann::json& j, const std::string& where);

// The complete records at the start of an existing predictions.jsonl ("" or no file: none).
// A last line cut off by an interruption (no newline, or not valid JSON) is dropped and counted
// in *dropped_partial; an invalid line before the last is a psy::Error. Read with the one JSON
// Lines reader (libpsy/core/jsonl_reader.h).
// Fuzzed (fuzz/fuzz_predictions.cpp, issue 14): keep these two names and signatures stable, or
// update that target with them.
std::vector<PredictionRecord> read_predictions(const std::string& path, size_t* dropped_partial = nullptr);
// The same over the file's text already in memory; `name` stands for the file in errors.
std::vector<PredictionRecord> read_predictions_text(const std::string& text, const std::string& name,
                                                    size_t* dropped_partial = nullptr);

}  // namespace psy
