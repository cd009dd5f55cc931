// RecipeDataset (libpsy/run/recipe_dataset.h): the recipe's data loaded, split and built once,
// the same split for training's samples, `psy data split` and evaluation's held-out examples.
#include <catch2/catch.hpp>

#include <set>

#include "libpsy/core/error.h"
#include "libpsy/evaluate/held_out_examples.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/run/recipe_dataset.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using namespace psy;

namespace {

Recipe sample_recipe(const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> all = {"data.path=" + test::sample_en_path(), "model.tokenizer=" + test::tiny_tokenizer_dir(),
                                  "data.test_fraction=0.3", "data.max_seq_len=4096", "model.chat_template=chatml"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return parse_recipe("", "r.yaml", all);
}

std::set<std::string> ids_of(const std::vector<Session>& sessions) {
  std::set<std::string> out;
  for (const auto& s : sessions) out.insert(s.dialog_id);
  return out;
}

}  // namespace

TEST_CASE("the recipe's dataset splits by session, seeded, and evaluation holds out the same sessions", "[run]") {
  const Recipe recipe = sample_recipe();
  const RecipeDataset dataset(recipe);
  const auto train = ids_of(dataset.train_sessions()), test = ids_of(dataset.test_sessions());
  REQUIRE(dataset.sessions().size() >= 4);
  CHECK(train.size() + test.size() == dataset.sessions().size());
  CHECK(!test.empty());
  for (const auto& id : test) CHECK(train.count(id) == 0);
  CHECK(&dataset.sessions_of(SplitSide::Test) == &dataset.test_sessions());

  // Evaluation's held-out examples come from the same test sessions, in the same order.
  const HeldOutSet held = held_out_examples(recipe, test::tiny_tokenizer());
  std::vector<std::string> test_order;
  for (const auto& s : dataset.test_sessions()) test_order.push_back(s.dialog_id);
  CHECK(held.test_dialog_ids == test_order);
  for (const auto& e : held.examples) CHECK(test.count(e.prompt.session_id) == 1);

  // Another seed gives another split; the same seed the same one.
  const RecipeDataset again(sample_recipe());
  CHECK(ids_of(again.test_sessions()) == test);
  const RecipeDataset other(sample_recipe({"seed=7"}));
  CHECK(ids_of(other.train_sessions()).size() == train.size());
}

TEST_CASE("samples carry their split and the recipe's prompt-loss weight", "[run]") {
  const RecipeDataset dataset(sample_recipe({"data.prompt_loss_weight=0.25", "data.task=dialog"}));
  const auto test = ids_of(dataset.test_sessions());
  const SampleSet all = dataset.samples(SplitSide::All, test::tiny_tokenizer());
  const SampleSet train = dataset.samples(SplitSide::Train, test::tiny_tokenizer());
  const SampleSet held = dataset.samples(SplitSide::Test, test::tiny_tokenizer());
  REQUIRE(!train.samples.empty());
  REQUIRE(!held.samples.empty());
  CHECK(all.samples.size() == train.samples.size() + held.samples.size());
  for (const auto& s : all.samples) CHECK(s.split == (test.count(s.session_id) ? "test" : "train"));
  for (const auto& s : train.samples) CHECK(s.split == "train");
  for (const auto& s : held.samples) CHECK(s.split == "test");
  // Prompt tokens weigh 0.25, target tokens 1 (the library's weights, not re-made by a caller).
  std::set<float> weights(train.samples[0].loss_weights.begin(), train.samples[0].loss_weights.end());
  CHECK(weights.count(0.25f) == 1);
  CHECK(weights.count(1.0f) == 1);
}

TEST_CASE("the dataset's errors: no data, a rag task without retrieval", "[run]") {
  Recipe r = sample_recipe();
  r.data.path.clear();
  CHECK_THROWS_WITH(RecipeDataset{r}, Catch::Contains("data.path"));
  const RecipeDataset rag(sample_recipe({"data.task=rag_dialog"}));
  CHECK_THROWS_WITH(rag.samples(SplitSide::Train, test::tiny_tokenizer()), Catch::Contains("need retrieval"));
  CHECK_THROWS_WITH(rag.eval_prompts(test::tiny_tokenizer(), 0, nullptr), Catch::Contains("need retrieval"));
  // The hook is given the training split and the queries.
  size_t train_seen = 0, queries_seen = 0;
  CaseRetrieval hook = [&](const std::vector<Session>& train, const std::vector<Session>& queries) {
    train_seen = train.size();
    queries_seen = queries.size();
    return RetrievedCases{};
  };
  CHECK_THROWS(rag.eval_prompts(test::tiny_tokenizer(), 0, nullptr, hook));  // empty cases do not fit
  CHECK(train_seen == rag.train_sessions().size());
  CHECK(queries_seen == rag.test_sessions().size());
}

TEST_CASE("the recipe's tokenizer: model.tokenizer, else model.path, else one clear error", "[run]") {
  Recipe r;
  r.source_path = "r.yaml";
  r.model.path = "models/m";
  CHECK(r.tokenizer_location() == "models/m");
  r.model.tokenizer = "tok/tokenizer.json";
  CHECK(r.tokenizer_location() == "tok/tokenizer.json");
  r.model = ModelSection{};
  CHECK_THROWS_WITH(r.tokenizer_location(), Catch::Contains("model.tokenizer (or model.path)"));
}
