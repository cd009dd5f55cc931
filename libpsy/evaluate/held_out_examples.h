// The examples an evaluation runs on: the held-out sessions of the recipe's dataset (RecipeDataset:
// the same load and split training makes), one prompt per therapist turn (build_eval_prompts:
// the same rendering and tokens as training), limited to eval.max_samples. No LibTorch.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "libpsy/data/sample_builder.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/run/recipe_dataset.h"
#include "libpsy/text/tokenizer.h"

namespace psy {

struct EvalExample {
  std::string id;  // "<dialog_id>:<turn_id>", with "#2", "#3"... for a repeated turn id of a session
  EvalPrompt prompt;
};

struct HeldOutSet {
  std::vector<EvalExample> examples;
  std::vector<std::string> test_dialog_ids;  // the held-out sessions, in split order
  size_t sessions = 0, train_sessions = 0, test_sessions = 0;
  size_t skipped_sessions = 0;               // unusable sessions (data.on_error: skip)
  size_t dropped_too_long = 0;               // prompts that did not fit max_prompt_tokens
  size_t available = 0;                      // prompts before eval.max_samples
};

// Retrieval for the rag tasks (CaseRetrieval, libpsy/run/recipe_dataset.h): psy eval passes
// retrieve_for_recipe (libpsy/retrieval/recipe_retrieval.h).

// Prompts are limited to max_prompt_tokens (0 = data.max_seq_len); see build_eval_prompts.
// Rag tasks need `retrieval` (held-out prompts retrieve from the training split only).
HeldOutSet held_out_examples(const Recipe& recipe, const Tokenizer& tokenizer, int max_prompt_tokens = 0,
                             const CaseRetrieval& retrieval = {});

// The prompt budget evaluation uses: data.max_seq_len - eval.max_new_tokens, so prompt plus
// generation stay within the length training saw; data.max_seq_len when that would be < 1/4 of it.
int eval_prompt_budget(const Recipe& recipe);

}  // namespace psy
