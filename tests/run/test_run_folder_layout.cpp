// RunFolder: the run's layout in one place, and what --checkpoint PATH resolves to (a run folder,
// a checkpoint, last/best, an adapter or a merged model), with one clear line for each wrong PATH.
#include <catch2/catch.hpp>

#include <filesystem>

#include "libpsy/core/error.h"
#include "libpsy/run/model_source.h"
#include "libpsy/run/run_folder.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using psy::test::write_file;

namespace {

void make_adapter(const std::string& dir, const std::string& base = "") {
  fs::create_directories(dir);
  write_file(dir + "/adapter_config.json", "{\"base_model_name_or_path\": \"" + base + "\", \"r\": 2}\n");
  write_file(dir + "/adapter_model.safetensors", "x");
}

void make_checkpoint(const std::string& run, long step, bool complete = true) {
  const std::string dir = psy::RunFolder(run).checkpoint_dir(step);
  make_adapter(dir + "/adapter");
  if (complete) write_file(dir + "/trainer_state.json", "{\"step\": " + std::to_string(step) + "}\n");
}

// A run with checkpoints step-2 and step-4 (complete), step-6 (half written) and a log.
std::string make_run(const psy::test::TempDir& tmp) {
  const std::string run = tmp.file("run");
  fs::create_directories(run);
  write_file(run + "/recipe.yaml", "name: tiny\n");
  make_checkpoint(run, 2);
  make_checkpoint(run, 4);
  make_checkpoint(run, 6, false);
  write_file(run + "/log.jsonl",
             "{\"step\": 2, \"loss\": 3.0, \"eval_loss\": 2.5}\n{\"step\": 4, \"loss\": 2.0, \"eval_loss\": 2.7}\n"
             "{\"step\": 6, \"loss\": 1.0, \"eval_loss\": 1.0}\n{\"step\": 7, \"lo");  // torn by a kill
  return run;
}

std::string error_of(const std::string& path) {
  try {
    psy::resolve_model_source(path);
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("RunFolder names every file of the layout", "[run]") {
  const psy::RunFolder run("runs/x");
  CHECK(run.checkpoint_dir(20) == "runs/x/checkpoints/step-20");
  CHECK(run.adapter_dir() == "runs/x/adapter");
  CHECK(run.model_dir() == "runs/x/model");
  CHECK(run.log_path() == "runs/x/log.jsonl");
  CHECK(run.recipe_path() == "runs/x/recipe.yaml");
  CHECK(run.metrics_path() == "runs/x/metrics.json");
  CHECK(run.predictions_path() == "runs/x/predictions.jsonl");
  CHECK(psy::checkpoint_step("step-12") == 12);
  CHECK(psy::checkpoint_step("step-") == -1);
  CHECK(psy::checkpoint_step("step-1a") == -1);
  CHECK(psy::checkpoint_step(".tmp-step-3") == -1);
  CHECK(psy::is_checkpoint_temp_name(psy::checkpoint_temp_name(3)));
}

TEST_CASE("a run folder resolves to its final weights, else its newest complete checkpoint", "[run]") {
  psy::test::TempDir tmp;
  const std::string run = make_run(tmp);
  const psy::RunFolder folder(run);
  CHECK(folder.checkpoint_steps() == std::vector<long>{2, 4});
  CHECK(folder.incomplete_checkpoint_steps() == std::vector<long>{6});

  auto s = psy::resolve_model_source(run);
  CHECK(s.adapter_dir == folder.checkpoint_dir(4) + "/adapter");
  CHECK(s.run_dir == run);
  CHECK(s.step == 4);
  make_adapter(folder.adapter_dir());
  s = psy::resolve_model_source(run + "/");
  CHECK(s.adapter_dir == folder.adapter_dir());
  CHECK(s.step == -1);
  CHECK(s.run_dir == run);
  CHECK_THAT(s.describe(), Catch::Contains("final"));
}

TEST_CASE("checkpoints by folder, step-N, last and best", "[run]") {
  psy::test::TempDir tmp;
  const std::string run = make_run(tmp);
  const psy::RunFolder folder(run);
  CHECK(psy::resolve_model_source(folder.checkpoint_dir(2)).adapter_dir == folder.checkpoint_dir(2) + "/adapter");
  CHECK(psy::resolve_model_source(folder.checkpoint_dir(2)).step == 2);
  CHECK(psy::resolve_model_source(run + "/step-2").step == 2);
  CHECK(psy::resolve_model_source(run + "/last").step == 4);
  CHECK(psy::resolve_model_source(run + "/checkpoints/last").step == 4);
  CHECK(psy::resolve_model_source(run + "/checkpoints").step == 4);
  // step-6 has the lowest eval_loss but is incomplete: the best complete one is step 2.
  CHECK(psy::resolve_model_source(run + "/best").step == 2);
  // An adapter folder itself, inside the run.
  auto s = psy::resolve_model_source(folder.checkpoint_dir(4) + "/adapter");
  CHECK(s.step == 4);
  CHECK(s.run_dir == run);
}

TEST_CASE("a wrong path, a missing and a half-written checkpoint are one clear line each", "[run]") {
  psy::test::TempDir tmp;
  const std::string run = make_run(tmp);
  std::string e = error_of(tmp.file("nowhere"));
  CHECK_THAT(e, Catch::StartsWith("--checkpoint " + tmp.file("nowhere")) && Catch::Contains("no such file or folder"));
  e = error_of(run + "/checkpoints/step-99");
  CHECK_THAT(e, Catch::Contains("no checkpoint step-99") && Catch::Contains("step-2, step-4") &&
                    Catch::Contains("incomplete (no trainer_state.json): step-6"));
  e = error_of(run + "/checkpoints/step-6");
  CHECK_THAT(e, Catch::Contains("is incomplete (no trainer_state.json"));
  e = error_of(run + "/recipe.yaml");
  CHECK_THAT(e, Catch::Contains("found a file"));
  fs::create_directories(tmp.file("empty"));
  e = error_of(tmp.file("empty"));
  CHECK_THAT(e, Catch::Contains("expected an adapter, model, checkpoint or run folder"));
  for (const auto& line : {e, error_of(run + "/checkpoints/step-6"), error_of(tmp.file("nowhere"))})
    CHECK(line.find('\n') == std::string::npos);
  CHECK_FALSE(psy::find_model_source(tmp.file("empty")).has_value());

  // No eval_loss logged at any complete checkpoint: best has nothing to choose by.
  psy::test::write_file(run + "/log.jsonl", "{\"step\": 2, \"loss\": 3.0}\n");
  CHECK_THAT(error_of(run + "/best"), Catch::Contains("no complete checkpoint has an eval_loss"));
  // Only half-written checkpoints.
  fs::remove_all(run + "/checkpoints/step-2");
  fs::remove_all(run + "/checkpoints/step-4");
  CHECK_THAT(error_of(run), Catch::Contains("every checkpoint in") && Catch::Contains("step-6"));
  CHECK_THAT(error_of(run + "/last"), Catch::Contains("no complete checkpoint"));
}

TEST_CASE("a merged model, an adapter's base model, and the run a folder lies in", "[run]") {
  psy::test::TempDir tmp;
  const std::string model = tmp.file("merged");
  fs::create_directories(model);
  write_file(model + "/config.json", "{}\n");
  auto s = psy::resolve_model_source(model);
  CHECK(s.model_dir == model);
  CHECK_FALSE(s.is_adapter());
  CHECK(s.run_dir.empty());

  make_adapter(tmp.file("a1"), model);
  CHECK(psy::adapter_base_model(tmp.file("a1")) == model);
  make_adapter(tmp.file("a2"), "org/not-a-local-folder");
  CHECK(psy::adapter_base_model(tmp.file("a2")).empty());

  const std::string run = make_run(tmp);
  CHECK(psy::run_folder_of(run) == run);
  CHECK(psy::run_folder_of(run + "/checkpoints/step-4") == run);
  CHECK(psy::run_folder_of(run + "/checkpoints/step-4/adapter") == run);
  CHECK(psy::run_folder_of(model) == model);  // not in a run: unchanged
  CHECK(psy::enclosing_run_folder(run + "/merged") == run);
  CHECK(psy::enclosing_run_folder(tmp.file("elsewhere/out")).empty());
}

TEST_CASE("the run's lock admits one writer", "[run]") {
  psy::test::TempDir tmp;
  const psy::RunFolder run(tmp.file("run"));
  auto held = run.lock("psy merge");
  try {
    auto second = run.lock("psy eval");
    FAIL("the second lock was granted");
  } catch (const psy::Error& e) {
    CHECK(e.exit_code() == psy::kExitFailure);
    CHECK_THAT(std::string(e.what()), Catch::Contains("in use by another psy process") && Catch::Contains("psy merge"));
  }
}
