// TrainRun (libpsy/run/train_run.h): a run built through the library as `psy train` builds it --
// set-up from the recipe, steps, finish -- on a tiny random model and the bundled sample.
#include "tests/io/torch_catch.h"  // LibTorch first, then Catch (c10 defines a CHECK of its own)

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/run/recipe_dataset.h"
#include "libpsy/run/train_run.h"
#include "libpsy/text/tokenizer.h"
#include "tests/cli/tiny_run.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace psy;

namespace {

Recipe tiny_recipe(const std::string& out, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> o = {"model.path=" + test::tiny_model_dir(), "data.path=[" + test::sample_data() + "]",
                                "output=" + out};
  o.insert(o.end(), extra.begin(), extra.end());
  return load_recipe(test::source_dir() + "/tests/fixtures/cli/train_recipe.yaml", o);
}

TrainRunOptions quiet() {
  TrainRunOptions o;
  o.quiet = true;
  o.psy_version = "test";
  return o;
}

}  // namespace

TEST_CASE("a run set up from the recipe trains on the recipe's dataset and ends with an adapter", "[run][train]") {
  test::TempDir dir;
  const std::string out = dir.file("run");
  const Recipe recipe = tiny_recipe(out);
  const RecipeDataset dataset(recipe);
  const Tokenizer tok = load_recipe_tokenizer(recipe);
  const size_t train_samples = dataset.samples(SplitSide::Train, tok).samples.size();
  const size_t test_samples = dataset.samples(SplitSide::Test, tok).samples.size();

  TrainRun run(recipe, quiet());
  const TrainRunFacts& f = run.facts();
  CHECK(f.run_dir == out);
  CHECK(f.train_samples == train_samples);
  CHECK(f.eval_samples == test_samples);
  CHECK(f.trainable_parameters > 0);
  CHECK(f.trainable_parameters < f.total_parameters);
  CHECK(f.compute_dtype == "fp32");
  CHECK(f.device == "cpu");
  CHECK(!f.full);
  CHECK(f.resumed_from.empty());
  long steps = 0;
  while (!run.done()) {
    run.step();
    ++steps;
  }
  const TrainingResult r = run.finish();
  CHECK(steps == 2);
  CHECK(r.steps == 2);
  CHECK(r.total_steps == 2);
  CHECK(std::isfinite(r.last_loss));
  CHECK(fs::exists(out + "/adapter/adapter_config.json"));
  CHECK(fs::exists(out + "/checkpoints/step-2"));
  const nlohmann::json manifest = read_json_file(out + "/manifest.json");
  CHECK(manifest["mode"] == "lora");
  CHECK(manifest["sessions"]["test"] == dataset.test_sessions().size());
  CHECK(manifest["samples"]["train"] == train_samples);
  // The resolved recipe reads back as the run's recipe.
  CHECK(recipe_to_yaml(load_recipe(out + "/recipe.yaml"), false) == recipe_to_yaml(recipe, false));
}

TEST_CASE("a second run in the folder needs --resume or --overwrite; resume continues where it stopped", "[run][train]") {
  test::TempDir dir;
  const std::string out = dir.file("run");
  {
    TrainRun first(tiny_recipe(out), quiet());
    while (!first.done()) first.step();
    first.finish();
  }
  CHECK_THROWS_WITH(TrainRun(tiny_recipe(out), quiet()), Catch::Contains("already holds a run"));
  TrainRunOptions resume = quiet();
  resume.resume = kResumeLatest;
  {
    TrainRun again(tiny_recipe(out, {"train.max_steps=3"}), resume);
    CHECK_THAT(again.facts().resumed_from, Catch::EndsWith("step-2"));
    while (!again.done()) again.step();
    const TrainingResult r = again.finish();
    CHECK(r.steps == 3);
    CHECK(r.losses.size() == 1);  // one step in this process
  }
  // A resumed run may not change what it trains.
  TrainRunOptions resume2 = quiet();
  resume2.resume = kResumeLatest;
  CHECK_THROWS_WITH(TrainRun(tiny_recipe(out, {"train.max_steps=3", "train.lr=0.5"}), resume2),
                    Catch::Contains("train.lr"));
}
