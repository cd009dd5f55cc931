// The recipe's retrieval as RecipeDataset's CaseRetrieval hook: one RecipeRetriever (the sentence
// encoder data.retrieval_encoder and the training split's index, cached in the run folder), made
// on first use and reused by later calls, so training's two sides share one encoder and index.
#pragma once
#include <functional>

#include "libpsy/recipe/recipe.h"
#include "libpsy/retrieval/recipe_retrieval.h"
#include "libpsy/run/recipe_dataset.h"

namespace psy {

// `on_made` is called once, after the retriever is made (e.g. to say its index came from the cache).
CaseRetrieval recipe_case_retrieval(const Recipe& recipe, std::function<void(const RecipeRetriever&)> on_made = {});

}  // namespace psy
