// Issue 18, defects 7-12: a run folder never mixes two runs. --overwrite clears every output of
// the previous run; one process at a time writes a folder (flock); --resume refuses changed
// settings that change the run's meaning and allows extending it; psy eval's resume checks the
// adapter's contents; leftovers of killed writers are cleaned at the next start; a file-size
// limit gives exit 1, one line and no temporary file.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "libpsy/core/file_lock.h"
#include "tests/cli/tiny_run.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using psy::test::line_count;
using psy::test::run_psy;
using psy::test::tiny_run_args;

namespace {

// A finished two-step run in `out`.
void train_once(const std::string& out, const std::string& extra = "") {
  auto r = run_psy(tiny_run_args("train", out, "--quiet " + extra));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(fs::exists(out + "/adapter/adapter_model.safetensors"));
}

}  // namespace

TEST_CASE("--overwrite clears the previous run's outputs, not only checkpoints", "[cli][run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  train_once(run);
  psy::test::write_file(run + "/predictions.jsonl", "{}\n");
  psy::test::write_file(run + "/metrics.json", "{}\n");
  // Without --overwrite (or --resume) a folder holding a run is refused, even with no checkpoint left.
  fs::remove_all(run + "/checkpoints");
  auto r = run_psy(tiny_run_args("train", run, "--quiet"));
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("already holds a run") && Catch::Contains("--overwrite"));
  // --resume of a run killed before its first checkpoint says so and how to go on.
  r = run_psy(tiny_run_args("train", run, "--quiet --resume"));
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("no checkpoint found") && Catch::Contains("before its first checkpoint") &&
                        Catch::Contains("--overwrite"));
  // A new run that fails right after starting leaves no stale adapter or evaluation behind.
  r = run_psy(tiny_run_args("train", run, "--quiet --overwrite data.path=[" + tmp.file("missing.json") + "]"));
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(run + "/adapter"));
  CHECK_FALSE(fs::exists(run + "/predictions.jsonl"));
  CHECK_FALSE(fs::exists(run + "/metrics.json"));
  CHECK_FALSE(fs::exists(run + "/log.jsonl"));
}

TEST_CASE("a second psy train or psy eval on a locked run folder gets one line and exit 1", "[cli][run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  {
    psy::FolderLock held(run, "the test");
    auto r = run_psy(tiny_run_args("train", run, "--quiet"));
    CHECK(r.exit_code == 1);
    CHECK(line_count(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("in use by another psy process") && Catch::Contains("the test"));
    CHECK_FALSE(fs::exists(run + "/log.jsonl"));
    CHECK_FALSE(fs::exists(run + "/recipe.yaml"));
    auto e = run_psy(tiny_run_args("eval", run, "--base --quiet --score-threads 1"));
    CHECK(e.exit_code == 1);
    CHECK(line_count(e.err) == 1);
    CHECK_THAT(e.err, Catch::Contains("in use by another psy process"));
  }
  // Released when its holder ends: the same folder now trains.
  train_once(run);
  // Two at once: exactly one of them runs, the other is refused.
  const std::string cmd = std::string("'") + PSY_EXE + "' " + tiny_run_args("train", tmp.file("two"), "--quiet");
  const std::string both = "(" + cmd + " 2>" + tmp.file("e1") + " & " + cmd + " 2>" + tmp.file("e2") +
                           "; echo $? > " + tmp.file("c2") + "; wait $!; echo $? > " + tmp.file("c1") + ") >/dev/null";
  REQUIRE(std::system(both.c_str()) == 0);
  const int c1 = std::stoi(psy::test::read_file(tmp.file("c1")));
  const int c2 = std::stoi(psy::test::read_file(tmp.file("c2")));
  INFO(psy::test::read_file(tmp.file("e1")) << psy::test::read_file(tmp.file("e2")));
  CHECK(((c1 == 0 && c2 == 1) || (c1 == 1 && c2 == 0) || (c1 == 0 && c2 == 2) || (c1 == 2 && c2 == 0)));
}

TEST_CASE("--resume refuses settings that change the run and allows extending it", "[cli][run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  train_once(run);
  auto r = run_psy(tiny_run_args("train", run, "--resume train.lr=0.5"));
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("train.lr") && Catch::Contains("0.001") && Catch::Contains("0.5"));
  for (const char* change : {"lora.r=8", "seed=7", "data.task=reasoning_dialog", "data.max_seq_len=256"}) {
    INFO(change);
    auto c = run_psy(tiny_run_args("train", run, std::string("--resume ") + change));
    CHECK(c.exit_code == 2);
    CHECK(line_count(c.err) == 1);
  }
  auto fewer = run_psy(tiny_run_args("train", run, "--resume train.max_steps=1"));
  CHECK(fewer.exit_code == 2);
  CHECK_THAT(fewer.err, Catch::Contains("only be extended"));
  // Bookkeeping may change; more steps extend the run and say so.
  auto more = run_psy(tiny_run_args("train", run, "--resume train.max_steps=3 threads=2 train.log_every=2"));
  INFO(more.err);
  CHECK(more.exit_code == 0);
  CHECK_THAT(more.err, Catch::Contains("train.max_steps 2 -> 3") && Catch::Contains("extends the run"));
  CHECK_THAT(more.out, Catch::Contains("steps: 3 of 3"));
}

TEST_CASE("--resume refuses a data file changed since the run started", "[cli][run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  const std::string data = tmp.file("data.json");
  fs::copy_file(psy::test::sample_data(), data);
  train_once(run, "data.path=[" + data + "]");
  psy::test::write_file(data, psy::test::read_file(data) + "\n");
  auto r = run_psy(tiny_run_args("train", run, "--resume data.path=[" + data + "]"));
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("changed since the run started"));
}

TEST_CASE("leftovers of killed writers are removed at the next start", "[cli][run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  train_once(run);
  psy::test::write_file(run + "/adapter/adapter_model.safetensors.tmp.99999", "partial");
  psy::test::write_file(run + "/manifest.json.tmp.4242", "partial");
  psy::test::write_file(run + "/predictions.jsonl.tmp.77", "partial");
  fs::create_directories(run + "/checkpoints/step-9");  // a kill during pruning
  fs::create_directories(run + "/checkpoints/.tmp-step-3/adapter");
  auto r = run_psy(tiny_run_args("train", run, "--resume train.max_steps=3"));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(psy::test::temporary_files_under(run).empty());
  CHECK_FALSE(fs::exists(run + "/checkpoints/step-9"));
  CHECK(fs::exists(run + "/checkpoints/step-3/trainer_state.json"));
  // psy eval cleans its folder too.
  psy::test::write_file(run + "/metrics.json.tmp.31337", "partial");
  auto e = run_psy(tiny_run_args("eval", run, "--quiet --score-threads 1"));
  INFO(e.err);
  CHECK(e.exit_code == 0);
  CHECK(psy::test::temporary_files_under(run).empty());
}

TEST_CASE("psy eval resume checks the adapter's contents, not its path", "[cli][run][issue18]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run"), other = tmp.file("other");
  train_once(run);
  train_once(other, "seed=9");
  const std::string out = tmp.file("eval");
  const std::string adapter = tmp.file("adapter");
  fs::copy(run + "/adapter", adapter);
  auto first = run_psy(tiny_run_args("eval", run, "--adapter " + adapter + " --out " + out + " --quiet --score-threads 1"));
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  // The adapter at the same path is replaced by another run's.
  fs::copy(other + "/adapter", adapter, fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  auto again = run_psy(tiny_run_args("eval", run, "--adapter " + adapter + " --out " + out + " --quiet --score-threads 1"));
  CHECK(again.exit_code == 2);
  CHECK(line_count(again.err) == 1);
  CHECK_THAT(again.err, Catch::Contains("adapter_sha256") && Catch::Contains("--overwrite"));
}

TEST_CASE("under a file-size limit psy exits 1 with one line and no temporary file", "[cli][issue18]") {
  psy::test::TempDir tmp;
  const std::string out = tmp.file("split");
  const std::string cmd = "ulimit -f 4; '" + std::string(PSY_EXE) + "' data split " + psy::test::sample_data() +
                          " --out " + out + " >/dev/null 2>" + tmp.file("err");
  const int status = std::system(("sh -c " + psy::test::shell_quote(cmd)).c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  const std::string err = psy::test::read_file(tmp.file("err"));
  CHECK(line_count(err) == 1);
  CHECK_THAT(err, Catch::Contains("File too large"));
  CHECK(psy::test::temporary_files_under(out).empty());
}

TEST_CASE("psy eval under a file-size limit: exit 1, one line with the OS error, resumable", "[cli][run][issue18]") {
  psy::test::TempDir tmp;
  const std::string out = tmp.file("eval");
  const std::string cmd = "ulimit -f 2; '" + std::string(PSY_EXE) + "' " +
                          tiny_run_args("eval", out, "--base --quiet --score-threads 1") + " >/dev/null 2>" + tmp.file("err");
  const int status = std::system(("sh -c " + psy::test::shell_quote(cmd)).c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  const std::string err = psy::test::read_file(tmp.file("err"));
  CHECK(line_count(err) == 1);
  CHECK_THAT(err, Catch::Contains("predictions.jsonl: write failed (File too large)"));
  CHECK(psy::test::temporary_files_under(out).empty());
  auto again = run_psy(tiny_run_args("eval", out, "--base --quiet --score-threads 1"));  // no limit now
  INFO(again.err);
  CHECK(again.exit_code == 0);
}
