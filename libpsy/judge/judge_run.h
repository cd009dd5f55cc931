// `psy judge` and `eval.judge`: score every prediction of a predictions.jsonl with a local chat
// model and one or more rubrics. Per rubric NAME, in the output folder:
//   judgements_NAME.jsonl  one line per prediction (judgement.h), rewritten atomically per batch
//   judge_NAME.json        {"rubric", "judge", "signature", "predictions", "n_examples", "n_scored",
//                           "n_unscored", "unscored_ids", "retried", "rescued_by_retry",
//                           "dimensions": {...} (judge_summary.h), "seconds", "seconds_per_example"}
// A rerun with the same inputs reuses every judgement whose id and key match (judgement.h) and
// loads the model only when something is left to judge.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace psy::judge {

struct JudgeModelSettings {
  std::string model;                  // Hugging Face folder of the judge
  std::string tokenizer;              // "" = the model folder
  std::string chat_template = "auto"; // auto (the folder's own template) | mistral | llama2 | chatml | plain | none
  std::string dtype = "fp32";
  std::string device = "cpu";
  long max_new_tokens = 64;
  double temperature = 0;             // 0 = greedy
  uint64_t seed = 0;                  // sampling seed (temperature > 0)
  long batch_size = 4;
  long max_history_chars = 6000;      // the history shown is cut to its last N bytes; 0 = whole
  int bootstrap = 1000;               // resamples of the confidence intervals; 0 = none
};

struct JudgeRequest {
  std::string predictions_path;
  std::vector<std::string> rubric_paths;
  std::string out_dir;                // "" = the folder of predictions_path
  JudgeModelSettings judge;
  bool overwrite = false;             // judge everything again
  bool quiet = false;
};

struct RubricOutcome {
  std::string rubric;
  std::string judgements_path, summary_path;
  size_t reused = 0, judged = 0;
  nlohmann::ordered_json summary;     // what judge_NAME.json holds
};

// Checks what can be checked before any model runs: rubrics, the judge's model folder and
// settings. Throws psy::Error (exit code 2) with one clear line.
void check_judge_settings(const std::vector<std::string>& rubric_paths, const JudgeModelSettings& judge);

// The predictions file (exists, complete, every line a prediction) and the settings above.
void check_judge_request(const JudgeRequest& request);

std::vector<RubricOutcome> run_judge(const JudgeRequest& request);

}  // namespace psy::judge
