// Scoring of evaluation predictions: the response against the gold turn with eval::Scorer (the
// same numbers psy score gives), observation and reasoning only where the task and gold have them.
#include <catch2/catch.hpp>

#include "eval/scoring.h"
#include "libpsy/evaluate/prediction_scoring.h"
#include "libpsy/recipe/recipe.h"

namespace {

psy::PredictionRecord record(const std::string& id, const std::string& task, psy::CotSections gold, psy::CotSections parsed) {
  psy::PredictionRecord r;
  r.id = id;
  r.session = "s";
  r.turn = id;
  r.task = task;
  r.gold = std::move(gold);
  r.parsed = std::move(parsed);
  return r;
}

}  // namespace

TEST_CASE("score_predictions: response scores equal psy score's, sections only where gold exists", "[evaluate]") {
  psy::Recipe recipe = psy::parse_recipe("{}", "test", {"eval.protocol=standard", "eval.metrics=[bleu1, rougeL, distinct2]"});
  const auto scoring = psy::prediction_scoring_from_recipe(recipe, 32000, 1);
  std::vector<psy::PredictionRecord> records = {
      record("a", "observation_reasoning_dialog", {"the client is tense", "she needs calm", "let us breathe together"},
             {"the client is calm", "she needs calm", "let us breathe"}),
      record("b", "observation_reasoning_dialog", {"", "ask more", "tell me more about it"}, {"", "", "tell me more"}),
      record("c", "dialog", {"", "", "how are you today"}, {"", "", "how are you"}),
  };
  const auto j = psy::score_predictions(records, scoring);
  CHECK(j["n_pairs"] == 3);
  REQUIRE(j["metrics"].contains("bleu1"));
  CHECK(j["metrics"]["bleu1"]["ci95"].size() == 2);
  CHECK(j["metrics"].contains("distinct2"));
  // The same pairs through eval::Scorer directly.
  psy::eval::Scorer direct(scoring.options, psy::eval::load_scoring_resources(scoring.options));
  direct.add("let us breathe", "let us breathe together");
  direct.add("tell me more", "tell me more about it");
  direct.add("how are you", "how are you today");
  const auto d = direct.finish();
  CHECK(j["metrics"]["bleu1"]["value"].get<double>() == Approx(*d.corpus[0].value).epsilon(1e-12));
  CHECK(records[0].scores.at("bleu1") == Approx(d.per_example[0][0]));
  // Observation: only record a (b has no gold observation, c is a dialog task).
  CHECK(j["sections"]["observation"]["n_pairs"] == 1);
  // Reasoning: a and b (c is a dialog task); b's missing reasoning counts as an empty hypothesis.
  CHECK(j["sections"]["reasoning"]["n_pairs"] == 2);
  CHECK(j["sections"]["reasoning"]["empty_hyp"] == 1);
  CHECK(records[0].section_scores.at("reasoning").at("bleu1") == Approx(1.0));
  CHECK(records[2].section_scores.empty());
}

TEST_CASE("prediction scoring settings: bertscore without a model is left out with a note", "[evaluate]") {
  psy::Recipe recipe = psy::parse_recipe("{}", "test", {"eval.metrics=[bleu1, bertscore_p]"});
  const auto scoring = psy::prediction_scoring_from_recipe(recipe, 32000, 1);
  CHECK(scoring.options.metrics == std::vector<std::string>{"bleu1"});
  REQUIRE(scoring.notes.size() == 1);
  CHECK(scoring.notes[0].find("bertscore_p") != std::string::npos);
  CHECK(scoring.options.protocol == psy::eval::Protocol::psy_insight);  // the recipe default
}
