// --checkpoint in psy generate, chat, merge, eval and report: a run folder, a checkpoint
// (folder, step-N, last, best), an adapter or a merged model, with the same meaning everywhere;
// a wrong path, a checkpoint that does not exist and a half-written one are one line and exit 2;
// a command writing into a run another process holds gets one line and exit 1.
#include <catch2/catch.hpp>

#include <filesystem>

#include "libpsy/core/file_lock.h"
#include "tests/cli/tiny_run.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using psy::test::line_count;
using psy::test::run_psy;

namespace {

// A finished two-step LoRA run (checkpoints step-1 and step-2, eval_loss logged at both), made once.
const std::string& trained_run() {
  static psy::test::TempDir tmp;
  static const std::string run = [] {
    const std::string out = tmp.file("run");
    auto r = run_psy(psy::test::tiny_run_args("train", out, "--quiet train.eval_every=1"));
    if (r.exit_code != 0) FAIL("psy train: " << r.err);
    return out;
  }();
  return run;
}

const std::string kGen = " --prompt 'I feel anxious' --max-new-tokens 4 --chat-template none";

std::string generated(const std::string& model_args) {
  auto r = run_psy("generate " + model_args + kGen);
  INFO(model_args << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

void check_one_line(const psy::test::RunResult& r, int code, const std::string& text) {
  INFO(r.err);
  CHECK(r.exit_code == code);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains(text));
}

}  // namespace

TEST_CASE("generate: --checkpoint on a run folder, a checkpoint, step-N, last and best", "[run][cli]") {
  const std::string run = trained_run();
  const std::string model = psy::test::tiny_model_dir();
  // The run folder means its final adapter; the adapter's base model comes from adapter_config.json.
  const std::string final_adapter = generated("--model " + model + " --adapter " + run + "/adapter");
  CHECK(generated("--checkpoint " + run) == final_adapter);
  CHECK(generated("--checkpoint " + run + " --model " + model) == final_adapter);
  const std::string step1 = generated("--model " + model + " --adapter " + run + "/checkpoints/step-1/adapter");
  CHECK(generated("--checkpoint " + run + "/checkpoints/step-1") == step1);
  CHECK(generated("--checkpoint " + run + "/step-1") == step1);
  CHECK(generated("--checkpoint " + run + "/checkpoints/step-1/adapter") == step1);
  const std::string step2 = generated("--model " + model + " --adapter " + run + "/checkpoints/step-2/adapter");
  CHECK(generated("--checkpoint " + run + "/last") == step2);
  // best: the complete checkpoint with the lowest eval_loss logged in log.jsonl.
  CHECK_FALSE(generated("--checkpoint " + run + "/best").empty());
}

TEST_CASE("generate, chat, merge: wrong paths are one line and exit 2", "[run][cli]") {
  const std::string run = trained_run();
  psy::test::TempDir tmp;
  // A half-written checkpoint: a save killed before trainer_state.json.
  const std::string half = tmp.file("half");
  fs::copy(run, half, fs::copy_options::recursive);
  fs::remove(half + "/checkpoints/step-2/trainer_state.json");
  const std::vector<std::string> commands = {"generate" + kGen, "chat --max-new-tokens 2 < /dev/null",
                                             "merge --out " + tmp.file("merged")};
  for (const auto& command : commands) {
    check_one_line(run_psy(command + " --checkpoint " + tmp.file("nowhere")), 2, "no such file or folder");
    check_one_line(run_psy(command + " --checkpoint " + run + "/checkpoints/step-9"), 2, "no checkpoint step-9");
    check_one_line(run_psy(command + " --checkpoint " + half + "/checkpoints/step-2"), 2,
                   "is incomplete (no trainer_state.json");
    check_one_line(run_psy(command + " --checkpoint " + run + " --adapter " + run + "/adapter"), 2,
                   "give --checkpoint or --adapter, not both");
  }
  CHECK_FALSE(fs::exists(tmp.file("merged")));
  // The half-written checkpoint is not the run's last: step-1 is.
  CHECK(generated("--checkpoint " + half + "/last") == generated("--checkpoint " + run + "/step-1"));
}

TEST_CASE("chat and merge on a run; the merged model is a --checkpoint too", "[run][cli]") {
  const std::string run = trained_run();
  psy::test::TempDir tmp;
  psy::test::write_file(tmp.file("in.txt"), "hello\n");
  auto c = run_psy("chat --checkpoint " + run + "/last --max-new-tokens 2 --temperature 0 < " + tmp.file("in.txt"));
  INFO(c.err);
  CHECK(c.exit_code == 0);
  CHECK_THAT(c.out, Catch::Contains("you>"));

  auto m = run_psy("merge --checkpoint " + run + "/checkpoints/step-2 --out " + tmp.file("merged"));
  INFO(m.err);
  REQUIRE(m.exit_code == 0);
  CHECK(fs::exists(tmp.file("merged") + "/config.json"));
  CHECK(generated("--checkpoint " + tmp.file("merged")) == generated("--checkpoint " + run + "/step-2"));
  // Nothing to merge in a whole model; a whole model and --model together are ambiguous.
  check_one_line(run_psy("merge --checkpoint " + tmp.file("merged") + " --out " + tmp.file("m2")), 2, "nothing to merge");
  check_one_line(run_psy("generate --checkpoint " + tmp.file("merged") + " --model " + psy::test::tiny_model_dir() + kGen),
                 2, "is a whole model");
}

TEST_CASE("writing into a run another process holds is one line and exit 1", "[run][cli]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  fs::copy(trained_run(), run, fs::copy_options::recursive);
  {
    psy::FolderLock held(run, "psy train");
    auto m = run_psy("merge --checkpoint " + run + " --out " + run + "/merged");
    check_one_line(m, 1, "in use by another psy process");
    CHECK_FALSE(fs::exists(run + "/merged/config.json"));
    check_one_line(run_psy("generate --checkpoint " + run + kGen + " --out " + run + "/gen.jsonl"), 1, "(pid ");
    // Reading a held run is fine.
    CHECK(run_psy("generate --checkpoint " + run + kGen).exit_code == 0);
  }
  CHECK(run_psy("merge --checkpoint " + run + " --out " + run + "/merged").exit_code == 0);
}

TEST_CASE("report: a checkpoint or adapter inside a run stands for its run", "[run][cli]") {
  const std::string run = trained_run();
  auto whole = run_psy("report " + run);
  auto by_checkpoint = run_psy("report " + run + "/checkpoints/step-1/adapter");
  INFO(whole.err << by_checkpoint.err);
  // A run without metrics.json has no table rows; both read the same folder (same loss curve).
  CHECK(whole.exit_code == by_checkpoint.exit_code);
  CHECK(whole.out == by_checkpoint.out);
  psy::test::TempDir tmp;
  auto a = run_psy("report " + run + " --plots " + tmp.file("p1"));
  auto b = run_psy("report " + run + "/checkpoints/step-1 --plots " + tmp.file("p2"));
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  CHECK(psy::test::read_file(tmp.file("p1") + "/loss.svg") == psy::test::read_file(tmp.file("p2") + "/loss.svg"));
}
