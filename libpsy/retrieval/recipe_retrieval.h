// The retrieval a recipe asks for (tasks rag_dialog, rag_dialog_explanation): the sentence
// encoder data.retrieval_encoder, the index over the recipe's training split (built once per run
// and cached in <output>/retrieval/ with the encoder's fingerprint), and the cases for any list
// of query sessions. Training, psy data build and psy eval all retrieve through this, so the
// same turn gets the same cases everywhere. Needs LibTorch (the encoder).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "libpsy/data/retrieval_prompt.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/retrieval/case_retrieval.h"

namespace psy {

class RecipeRetriever {
 public:
  // `train`: the training split (split_sessions with the recipe's seed and fraction).
  // cache_dir: "" = <recipe.output>/retrieval; "-" = no cache. Throws psy::Error (exit 2) for an
  // encoder folder that is not a BERT-family sentence encoder, k beyond the training split, or a
  // retrieval field absent from the data -- one line each.
  RecipeRetriever(const Recipe& recipe, std::vector<Session> train, const std::string& cache_dir = "");
  ~RecipeRetriever();

  RetrievedCases cases_for(const std::vector<Session>& queries) const;
  const CaseIndex& index() const;
  const std::string& encoder_fingerprint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// cases_for with a retriever made for `train` (one line for held_out_examples' hook).
RetrievedCases retrieve_for_recipe(const Recipe& recipe, const std::vector<Session>& train,
                                   const std::vector<Session>& queries);

}  // namespace psy
