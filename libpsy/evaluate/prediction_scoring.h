// Scoring evaluation predictions with the same code `psy score` runs (eval::Scorer, protocols,
// bootstrap CIs, the BERTScore hook): the parsed response against the gold therapist turn, and
// (beyond the paper) the parsed observation and reasoning against the gold annotations where
// the task has them and the gold is not empty.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/scoring.h"
#include "libpsy/evaluate/prediction_record.h"
#include "libpsy/recipe/recipe.h"

namespace psy {

struct PredictionScoring {
  eval::ScoringOptions options;
  std::optional<eval::ExternalPairMetric> bertscore;  // bertscore_* metrics, when requested
  int threads = 2;
  std::vector<std::string> notes;                    // e.g. metrics left out and why
};

// From recipe.eval (protocol, metrics, bertscore_model), data.lang and seed. bertscore_* metrics
// are left out (with a note) when eval.bertscore_model is empty.
PredictionScoring prediction_scoring_from_recipe(const Recipe& recipe, long vocab_size, int threads);

// Scores `records` (fills their scores / section_scores) and returns
//   {"n_pairs", "empty_hyp", "empty_ref", "metrics": {KEY: {value, ci95, aggregate, signature, ...}},
//    "sections": {"observation": {"n_pairs", "metrics"}, "reasoning": {...}}}
nlohmann::ordered_json score_predictions(std::vector<PredictionRecord>& records, const PredictionScoring& scoring);

}  // namespace psy
