#include "libpsy/evaluate/held_out_examples.h"

#include <unordered_set>

#include "libpsy/core/error.h"

namespace psy {

int eval_prompt_budget(const Recipe& recipe) {
  const int budget = recipe.data.max_seq_len - recipe.eval.max_new_tokens;
  return budget * 4 < recipe.data.max_seq_len ? recipe.data.max_seq_len : budget;
}

HeldOutSet held_out_examples(const Recipe& recipe, const Tokenizer& tokenizer, int max_prompt_tokens,
                             const CaseRetrieval& retrieval) {
  if (recipe.eval.max_samples < 0)
    throw Error("eval.max_samples: " + expected_found("0 (all) or more", std::to_string(recipe.eval.max_samples)));
  const RecipeDataset dataset(recipe);
  HeldOutSet out;
  out.sessions = dataset.sessions().size();
  out.skipped_sessions = dataset.skipped().size();
  out.train_sessions = dataset.train_sessions().size();
  out.test_sessions = dataset.test_sessions().size();
  for (const auto& s : dataset.test_sessions()) out.test_dialog_ids.push_back(s.dialog_id);
  SampleStats stats;
  auto prompts = dataset.eval_prompts(tokenizer, max_prompt_tokens, &stats, retrieval);
  out.dropped_too_long = stats.dropped_too_long;
  out.available = prompts.size();
  const size_t limit = recipe.eval.max_samples > 0 ? static_cast<size_t>(recipe.eval.max_samples) : prompts.size();
  std::unordered_set<std::string> seen;
  for (auto& p : prompts) {
    if (out.examples.size() >= limit) break;
    EvalExample e;
    // The released data repeats a few turn ids inside a session (26 in English v7): the second
    // and later ones get "#2", "#3", ... so that ids stay unique and stable.
    e.id = p.session_id + ":" + p.turn_id;
    for (int k = 2; !seen.insert(e.id).second; ++k) e.id = p.session_id + ":" + p.turn_id + "#" + std::to_string(k);
    e.prompt = std::move(p);
    out.examples.push_back(std::move(e));
  }
  return out;
}

}  // namespace psy
