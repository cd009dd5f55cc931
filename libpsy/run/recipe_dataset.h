// The recipe's dataset: its Psy-Insight files loaded (data.on_error), split by session with the
// recipe's seed and test fraction, and its samples built -- once, for `psy train`, `psy data
// build`, `psy data tokens` and `psy eval`'s held-out examples. This is the tree's one caller of
// split_sessions, so the test set evaluation scores is the one training held out. No LibTorch:
// the rag tasks' retrieval (which needs the sentence encoder) comes in as a CaseRetrieval hook
// (libpsy/run/recipe_retrieval_hook.h makes the recipe's).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "libpsy/data/load_sessions.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/data/sample_options.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/text/tokenizer.h"

namespace psy {

// Retrieval for the rag tasks: the cases of `queries` from an index over `train` (the training
// split).
using CaseRetrieval = std::function<RetrievedCases(const std::vector<Session>& train, const std::vector<Session>& queries)>;

// Which sessions of the split: the training side, the held-out side, or all (file order).
enum class SplitSide { Train, Test, All };
const char* split_side_name(SplitSide side);  // train | test | all

class RecipeDataset {
 public:
  // Loads data.path and splits it. Throws psy::Error (exit 2) when data.path is empty, for an
  // unusable file or session (data.on_error: stop), or a test fraction outside [0, 1).
  explicit RecipeDataset(const Recipe& recipe);

  const Recipe& recipe() const { return recipe_; }
  const SampleOptions& options() const { return options_; }  // sample_options_from_recipe, once
  const std::vector<Session>& sessions() const { return sessions_; }  // every usable session, file order
  const std::vector<SkippedSession>& skipped() const { return skipped_; }  // data.on_error: skip
  const std::vector<Session>& train_sessions() const { return train_; }
  const std::vector<Session>& test_sessions() const { return test_; }
  const std::vector<Session>& sessions_of(SplitSide side) const;

  // The samples of one side with `options` (default: the recipe's), each marked with its split.
  // Rag tasks need `retrieval` (cases come from the training split's index).
  SampleSet samples(SplitSide side, const Tokenizer& tokenizer, const CaseRetrieval& retrieval = {}) const;
  SampleSet samples(SplitSide side, const SampleOptions& options, const Tokenizer& tokenizer,
                    const CaseRetrieval& retrieval = {}) const;

  // One prompt per held-out therapist turn (build_eval_prompts on the test side).
  std::vector<EvalPrompt> eval_prompts(const Tokenizer& tokenizer, int max_prompt_tokens, SampleStats* stats,
                                       const CaseRetrieval& retrieval = {}) const;

  // "psy: skipped N unusable session(s); first: REASON", or "" when none was skipped.
  std::string skipped_note() const;

 private:
  Recipe recipe_;
  SampleOptions options_;
  std::vector<Session> sessions_, train_, test_;
  std::vector<const char*> side_of_;  // per entry of sessions_: "train" | "test"
  std::vector<SkippedSession> skipped_;
};

// The recipe's tokenizer (model.tokenizer, else model.path).
Tokenizer load_recipe_tokenizer(const Recipe& recipe);

}  // namespace psy
