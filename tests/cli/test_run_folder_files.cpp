// Issue 18, defects 9, 10, 12 at the library level: the folder lock, what a resume may change,
// and the leftovers cleaned at a start.
#include <catch2/catch.hpp>

#include <filesystem>

#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/recipe/resume_settings.h"
#include "libpsy/train/run_folder_files.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;

TEST_CASE("a folder lock is exclusive and names its holder", "[run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  {
    psy::FolderLock first(run, "psy train");
    try {
      psy::FolderLock second(run, "psy eval");
      FAIL("two locks on one folder");
    } catch (const psy::Error& e) {
      CHECK(e.exit_code() == 1);
      CHECK_THAT(e.what(), Catch::Contains("in use by another psy process") && Catch::Contains("psy train"));
    }
  }
  CHECK_NOTHROW(psy::FolderLock(run, "psy train"));  // released with its holder
}

TEST_CASE("resume: meaning keys refused, extensions reported, bookkeeping free", "[run][issue18]") {
  const psy::Recipe before = psy::parse_recipe("train: {epochs: 2, lr: 1.0e-4}\n", "run/recipe.yaml");
  auto now = [](const std::vector<std::string>& o) {
    return psy::parse_recipe("train: {epochs: 2, lr: 1.0e-4}\n", "r.yaml", o);
  };
  CHECK(psy::check_resume_settings(before, now({}), "run/recipe.yaml").extensions.empty());
  auto ext = psy::check_resume_settings(before, now({"train.epochs=5"}), "run/recipe.yaml");
  REQUIRE(ext.extensions.size() == 1);
  CHECK(ext.extensions[0] == "train.epochs 2 -> 5");
  CHECK(psy::check_resume_settings(before, now({"threads=3", "eval.max_samples=4", "train.save_every=7"}), "x")
            .extensions.empty());
  for (const char* change : {"train.lr=0.5", "seed=1", "lora.r=16", "lora.targets=[q_proj]", "data.path=[x.json]",
                             "model.path=m", "train.micro_batch=2", "train.epochs=1", "data.prompt_loss_weight=0.5"}) {
    INFO(change);
    try {
      psy::check_resume_settings(before, now({change}), "run/recipe.yaml");
      FAIL("accepted");
    } catch (const psy::Error& e) {
      const std::string key = std::string(change).substr(0, std::string(change).find('='));
      CHECK_THAT(e.what(), Catch::StartsWith("--resume: " + key + " was") && Catch::Contains("run/recipe.yaml"));
    }
  }
}

TEST_CASE("stale temporaries and half-pruned checkpoints are removed; real ones kept", "[run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  fs::create_directories(run + "/adapter");
  fs::create_directories(run + "/checkpoints/step-2/adapter");
  fs::create_directories(run + "/checkpoints/step-4");
  fs::create_directories(run + "/checkpoints/.tmp-step-6/adapter");
  psy::test::write_file(run + "/checkpoints/step-2/trainer_state.json", "{}");
  psy::test::write_file(run + "/checkpoints/step-2/adapter/adapter_model.safetensors.tmp.12", "x");
  psy::test::write_file(run + "/adapter/adapter_config.json", "{}");
  psy::test::write_file(run + "/adapter/adapter_config.json.tmp.99", "x");
  psy::test::write_file(run + "/manifest.json.tmp.4", "x");
  psy::test::write_file(run + "/notes.tmp.txt", "a user's file");  // not NAME.tmp.PID
  const auto removed = psy::clean_stale_files(run);
  CHECK(removed.size() == 5);
  CHECK(fs::exists(run + "/checkpoints/step-2/trainer_state.json"));
  CHECK_FALSE(fs::exists(run + "/checkpoints/step-4"));
  CHECK_FALSE(fs::exists(run + "/checkpoints/.tmp-step-6"));
  CHECK_FALSE(fs::exists(run + "/adapter/adapter_config.json.tmp.99"));
  CHECK(fs::exists(run + "/adapter/adapter_config.json"));
  CHECK(fs::exists(run + "/notes.tmp.txt"));
  CHECK(psy::holds_previous_run(run));
  psy::clear_run_outputs(run);
  CHECK_FALSE(psy::holds_previous_run(run));
  CHECK_FALSE(fs::exists(run + "/adapter"));
  CHECK_FALSE(fs::exists(run + "/checkpoints"));
  CHECK(fs::exists(run + "/notes.tmp.txt"));  // files psy did not write stay
}
