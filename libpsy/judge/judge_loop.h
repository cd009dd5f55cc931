// Judging a list of examples with any answerer (a chat model, or a script in tests): prompts
// from the rubric, one retry on a malformed answer, then the example counts as unscored.
// judgements.jsonl is rewritten atomically after every batch, so an interrupted run keeps what
// it judged; lines whose id and key match are reused instead of asked again. No LibTorch.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "libpsy/evaluate/prediction_record.h"
#include "libpsy/judge/judgement.h"
#include "libpsy/judge/rubric.h"

namespace psy::judge {

struct JudgeItem {
  std::string id;
  std::string key;  // fingerprint of the settings and of the texts shown
  JudgeInput input;
};

// Answers a batch of conversations (each ends with a user message), one answer per conversation.
using Answerer = std::function<std::vector<std::string>(const std::vector<std::vector<JudgeMessage>>&)>;

// One item per prediction: the history is the prediction's prompt, cut to its last
// `max_history_chars` bytes (at a UTF-8 boundary, "[...]" in front) when longer; the reply is the
// parsed response (the raw generation when none was parsed); the reference is the gold response.
// `settings` (the judge's signature) goes into every key.
std::vector<JudgeItem> judge_items(const std::vector<PredictionRecord>& predictions, const std::string& settings,
                                   size_t max_history_chars);

struct LoopOptions {
  size_t batch_size = 4;
  std::string judgements_path;                                  // "" = do not write
  std::function<void(size_t done, size_t total)> on_progress;   // after each batch
};

struct LoopOutcome {
  std::vector<Judgement> judgements;  // one per item, in order
  size_t reused = 0;                  // taken from `previous`
  size_t judged = 0;                  // asked in this run
};

LoopOutcome judge_all(const Rubric& rubric, const std::vector<JudgeItem>& items, const std::vector<Judgement>& previous,
                      const Answerer& answer, const LoopOptions& options);

}  // namespace psy::judge
