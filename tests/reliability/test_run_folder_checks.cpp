// The checks psy_kill_resume makes after every kill must see what a kill can break: a checkpoint
// that lost files while being pruned, a torn last line, half an adapter, a checkpoint that
// differs from the uninterrupted run's.
#include <catch2/catch.hpp>

#include <filesystem>

#include "libpsy/io/safetensors_format.h"
#include "tests/reliability/run_comparison.h"
#include "tests/reliability/run_folder_checks.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using psy::test::write_file;

namespace {

// A whole safetensors file of F32 tensors of 2 elements, all equal to `value`.
void write_tensors(const std::string& path, const std::vector<std::string>& names, float value = 0.5f) {
  std::vector<psy::SafetensorsTensorInfo> infos;
  for (const auto& n : names) {
    psy::SafetensorsTensorInfo t;
    t.name = n;
    t.shape = {2};
    infos.push_back(t);
  }
  std::string bytes = psy::build_safetensors_header(infos, {});
  for (size_t i = 0; i < 2 * names.size(); ++i) bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
  fs::create_directories(fs::path(path).parent_path());
  write_file(path, bytes);
}

// RUN/checkpoints/step-N as psy train writes it, for one trained tensor "a".
void write_checkpoint(const std::string& run, int step, float value = 0.5f) {
  const std::string dir = run + "/checkpoints/step-" + std::to_string(step);
  write_tensors(dir + "/adapter/adapter_model.safetensors", {"a"}, value);
  write_file(dir + "/adapter/adapter_config.json", "{}\n");
  write_tensors(dir + "/optimizer.safetensors", {"exp_avg.0", "exp_avg_sq.0", "rng.cpu"}, value);
  write_file(dir + "/trainer_state.json", "{\"step\": " + std::to_string(step) + ", \"param_names\": [\"a\"]}\n");
}

}  // namespace

TEST_CASE("the folder checks accept a whole run and see each kind of damage", "[reliability]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  write_checkpoint(run, 2);
  write_checkpoint(run, 4);
  write_file(run + "/log.jsonl", "{\"step\":1,\"loss\":2.5}\n{\"step\":2,\"loss\":2.4}\n");
  fs::create_directories(run + "/checkpoints/.tmp-step-6/adapter");  // a save in progress is allowed
  CHECK(psy::reliability::check_train_folder(run).empty());

  SECTION("a checkpoint half removed while pruning") {
    fs::remove(run + "/checkpoints/step-2/optimizer.safetensors");
    const auto problems = psy::reliability::check_train_folder(run);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::Contains("step-2/optimizer.safetensors"));
  }
  SECTION("a cut-off tensor file") {
    const std::string f = run + "/checkpoints/step-4/adapter/adapter_model.safetensors";
    fs::resize_file(f, fs::file_size(f) - 3);
    CHECK(psy::reliability::check_train_folder(run).size() == 1);
  }
  SECTION("a torn last line of log.jsonl") {
    write_file(run + "/log.jsonl", "{\"step\":1,\"loss\":2.5}\n{\"step\":2,\"lo");
    const auto problems = psy::reliability::check_train_folder(run);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::Contains("torn"));
  }
  SECTION("half a final adapter") {
    write_tensors(run + "/adapter/adapter_model.safetensors", {"a"});
    const auto problems = psy::reliability::check_train_folder(run);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::Contains("half an adapter"));
  }
  SECTION("temporary files are leftovers once a run is done") {
    CHECK(psy::reliability::temporary_leftovers(run).size() == 1);  // .tmp-step-6
  }
}

TEST_CASE("predictions.jsonl: a line without its newline is torn", "[reliability]") {
  psy::test::TempDir tmp;
  write_file(tmp.file("predictions.jsonl"), "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  CHECK(psy::reliability::check_eval_folder(tmp.path()).empty());
  write_file(tmp.file("predictions.jsonl"), "{\"id\":\"a\"}\n{\"id\":\"b\"}");
  CHECK(psy::reliability::check_eval_folder(tmp.path()).size() == 1);
}

TEST_CASE("the comparison sees a checkpoint or a loss that differs", "[reliability]") {
  psy::test::TempDir tmp;
  for (const char* name : {"a", "b"}) {
    const std::string run = tmp.file(name);
    write_checkpoint(run, 2);
    write_tensors(run + "/adapter/adapter_model.safetensors", {"a"});
    write_file(run + "/adapter/adapter_config.json", "{}\n");
    write_file(run + "/log.jsonl", "{\"step\":1,\"loss\":2.5,\"elapsed_s\":1.0}\n");
  }
  write_file(tmp.file("b") + "/log.jsonl", "{\"step\":1,\"loss\":2.5,\"elapsed_s\":7.0}\n");  // wall clock only
  CHECK(psy::reliability::compare_train_runs(tmp.file("a"), tmp.file("b")).empty());
  write_checkpoint(tmp.file("b"), 2, 0.25f);
  write_file(tmp.file("b") + "/log.jsonl", "{\"step\":1,\"loss\":2.5000001,\"elapsed_s\":7.0}\n");
  const auto diffs = psy::reliability::compare_train_runs(tmp.file("a"), tmp.file("b"));
  CHECK(diffs.size() == 3);  // the checkpoint's adapter and optimizer bytes, the loss
}
