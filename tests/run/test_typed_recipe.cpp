// The typed recipe: closed choices (train.mode, data.unit, devices, dtypes, schedule, decoding,
// ...) are enums read once where the recipe is validated, so `psy recipe show` rejects, with one
// line, exactly the values `psy train` would.
#include <catch2/catch.hpp>

#include <algorithm>

#include "libpsy/core/error.h"
#include "libpsy/recipe/recipe.h"
#include "tests/test_support.h"

using namespace psy;

TEST_CASE("closed choices are enums, printed back by name", "[run][recipe]") {
  const Recipe r = parse_recipe(
      "train: {mode: full, schedule: linear, plw_normalization: nonzero_tokens, nan_policy: skip}\n"
      "data: {unit: session, missing_annotation: placeholder, on_error: skip}\n"
      "devices: {use: [cpu, 'cuda:1'], parallel: layers}\neval: {decoding: sample}\n",
      "r.yaml");
  CHECK(r.train.mode == TrainMode::Full);
  CHECK(r.train.schedule == ScheduleKind::Linear);
  CHECK(r.train.plw_normalization == LossDenominator::NonzeroTokens);
  CHECK(r.train.nan_policy == NanPolicy::Skip);
  CHECK(r.data.unit == DataUnit::Session);
  CHECK(r.data.missing_annotation == MissingAnnotation::Placeholder);
  CHECK(r.data.on_error == OnError::Skip);
  CHECK(r.devices.parallel == ParallelMode::Layers);
  REQUIRE(r.devices.use.size() == 2);
  CHECK(r.devices.use[1].is_cuda());
  CHECK(r.devices.use[1].index == 1);
  CHECK(r.any_cuda());
  CHECK(r.eval.decoding == Decoding::Sample);
  const std::string yaml = recipe_to_yaml(r, false);
  for (const char* line : {"mode: full", "schedule: linear", "unit: session", "use: [cpu, cuda:1]", "parallel: layers",
                           "decoding: sample", "on_error: skip", "plw_normalization: nonzero_tokens"})
    CHECK_THAT(yaml, Catch::Contains(line));
  // What is printed reads back as the same recipe.
  CHECK(recipe_to_yaml(parse_recipe(yaml, "again.yaml"), false) == yaml);
}

TEST_CASE("psy recipe show rejects a bad choice or range with one line naming the key", "[run][recipe][cli]") {
  test::TempDir dir;
  test::write_file(dir.file("r.yaml"), "name: t\n");
  struct Case {
    std::string override_, key, expected;
  };
  for (const Case& c : {Case{"data.prompt_loss_weight=1.5", "data.prompt_loss_weight", "[0, 1]"},
                        Case{"data.unit=paragraph", "data.unit", "turn, session"},
                        Case{"train.mode=partial", "train.mode", "lora, full"},
                        Case{"train.schedule=step", "train.schedule", "constant, linear, cosine"},
                        Case{"model.dtype=fp8", "model.dtype", "fp32, bf16, fp16"},
                        Case{"devices.use=[gpu0]", "devices.use", "cpu, cuda or cuda:N"},
                        Case{"devices.parallel=tensor", "devices.parallel", "none, data, layers"},
                        Case{"eval.decoding=beam", "eval.decoding", "greedy, sample"},
                        Case{"train.nan_policy=ignore", "train.nan_policy", "stop, skip"},
                        Case{"data.reasoning_slot=think", "data.reasoning_slot", "chat_template auto"}}) {
    INFO(c.override_);
    const auto r = test::run_psy("recipe show " + dir.file("r.yaml") + " " + c.override_);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.key) && Catch::Contains(c.expected));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one line
  }
  CHECK(test::run_psy("recipe show " + dir.file("r.yaml") + " data.prompt_loss_weight=1").exit_code == 0);
}
