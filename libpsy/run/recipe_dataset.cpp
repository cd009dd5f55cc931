#include "libpsy/run/recipe_dataset.h"

#include "libpsy/core/error.h"
#include "libpsy/data/split.h"

namespace psy {

const char* split_side_name(SplitSide side) {
  switch (side) {
    case SplitSide::Train: return "train";
    case SplitSide::Test: return "test";
    case SplitSide::All: return "all";
  }
  return "all";
}

RecipeDataset::RecipeDataset(const Recipe& recipe) : recipe_(recipe) {
  if (recipe_.data.path.empty())
    throw Error(recipe_.source_path + ": data.path must name at least one Psy-Insight file");
  options_ = sample_options_from_recipe(recipe_);
  LoadedSessions loaded = load_session_files(recipe_.data.path, recipe_.data.on_error);
  sessions_ = std::move(loaded.sessions);
  skipped_ = std::move(loaded.skipped);
  const SessionSplit split =
      split_sessions(sessions_.size(), recipe_.data.test_fraction, static_cast<uint64_t>(recipe_.seed));
  side_of_.assign(sessions_.size(), "train");
  for (size_t i : split.train) train_.push_back(sessions_[i]);
  for (size_t i : split.test) {
    test_.push_back(sessions_[i]);
    side_of_[i] = "test";
  }
}

const std::vector<Session>& RecipeDataset::sessions_of(SplitSide side) const {
  return side == SplitSide::Train ? train_ : side == SplitSide::Test ? test_ : sessions_;
}

SampleSet RecipeDataset::samples(SplitSide side, const Tokenizer& tokenizer, const CaseRetrieval& retrieval) const {
  return samples(side, options_, tokenizer, retrieval);
}

SampleSet RecipeDataset::samples(SplitSide side, const SampleOptions& options, const Tokenizer& tokenizer,
                                 const CaseRetrieval& retrieval) const {
  const std::vector<Session>& chosen = sessions_of(side);
  SampleSet set;
  if (is_retrieval_task(options.task)) {
    if (!retrieval) throw Error("data.task " + recipe_.data.task + ": the samples need retrieval (no retriever given)");
    const RetrievedCases cases = retrieval(train_, chosen);
    set = build_samples(chosen, options, tokenizer, &cases);
  } else {
    set = build_samples(chosen, options, tokenizer);
  }
  for (auto& s : set.samples)
    s.split = side == SplitSide::All ? side_of_.at(s.session_index) : split_side_name(side);
  return set;
}

std::vector<EvalPrompt> RecipeDataset::eval_prompts(const Tokenizer& tokenizer, int max_prompt_tokens,
                                                    SampleStats* stats, const CaseRetrieval& retrieval) const {
  if (!is_retrieval_task(options_.task))
    return build_eval_prompts(test_, options_, tokenizer, max_prompt_tokens, stats);
  if (!retrieval) throw Error("data.task " + recipe_.data.task + ": held-out prompts need retrieval (no retriever given)");
  const RetrievedCases cases = retrieval(train_, test_);
  return build_eval_prompts(test_, options_, tokenizer, max_prompt_tokens, stats, &cases);
}

std::string RecipeDataset::skipped_note() const {
  if (skipped_.empty()) return "";
  return "psy: skipped " + std::to_string(skipped_.size()) + " unusable session(s); first: " + skipped_.front().reason;
}

Tokenizer load_recipe_tokenizer(const Recipe& recipe) { return Tokenizer::load(recipe.tokenizer_location()); }

}  // namespace psy
