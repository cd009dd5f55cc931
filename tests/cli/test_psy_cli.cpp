#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

#include "libpsy/core/cpu_features.h"
#include "tests/test_support.h"

using psy::test::run_psy;

namespace {
std::string sample(const char* name) { return "'" + psy::test::source_dir() + "/data/sample/" + name + "'"; }

// `psy --version`'s output under `env ENV` (e.g. "-u OMP_WAIT_POLICY"), which must exit 0.
std::string version_with(const std::string& env) {
  psy::test::TempDir tmp;
  const std::string cmd = "env " + env + " '" + PSY_EXE + "' --version >'" + tmp.file("out") + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return psy::test::read_file(tmp.file("out"));
}
}  // namespace

TEST_CASE("psy --version names psy, LibTorch, CUDA, BLAS and threads", "[cli]") {
  auto r = run_psy("--version");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("psy 0."));
  CHECK_THAT(r.out, Catch::Contains("LibTorch 1") || Catch::Contains("LibTorch 2"));
  CHECK_THAT(r.out, Catch::Contains("CUDA"));
  CHECK_THAT(r.out, Catch::Contains("BLAS"));
  CHECK_THAT(r.out, Catch::Contains("threads"));
}

TEST_CASE("psy runs with OpenMP's passive wait policy unless the user chose one", "[cli]") {
  // Spinning OpenMP threads starve OpenBLAS's on a small machine (runtime/process_environment.h).
  CHECK_THAT(version_with("-u OMP_WAIT_POLICY"), Catch::Contains("OpenMP wait policy PASSIVE"));
  CHECK_THAT(version_with("OMP_WAIT_POLICY=active"), Catch::Contains("OpenMP wait policy active"));
}

TEST_CASE("psy never runs OpenBLAS's SSE3 fallback kernels on a CPU with AVX2, unless the user asks", "[cli]") {
  // Debian's OpenBLAS falls back to Prescott on CPUs newer than itself (runtime/openblas_core.h).
  const std::string chosen = version_with("-u OPENBLAS_CORETYPE");
  if (chosen.find("OpenBLAS core") == std::string::npos) {
    WARN("psy's BLAS is not OpenBLAS here: nothing to check");
    return;
  }
  if (psy::cpu_features().avx2_fma) {
    INFO(chosen);
    CHECK_THAT(chosen, !Catch::Contains("OpenBLAS core Prescott"));
  }
  CHECK_THAT(version_with("OPENBLAS_CORETYPE=Prescott"), Catch::Contains("OpenBLAS core Prescott (OPENBLAS_CORETYPE)"));
}

TEST_CASE("unknown subcommands and options exit 2 with one line naming the valid ones", "[cli]") {
  auto r = run_psy("frobnicate");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown command 'frobnicate'") && Catch::Contains("data"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  r = run_psy("data stats --bogus x");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown option '--bogus'") && Catch::Contains("--json"));
  r = run_psy("data nothing");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("valid: stats, split"));
  CHECK(run_psy("").exit_code == 2);
}

TEST_CASE("every subcommand has --help listing its options", "[cli]") {
  auto top = run_psy("--help");
  CHECK(top.exit_code == 0);
  for (const char* cmd : {"data stats", "data split", "recipe show"}) {
    auto r = run_psy(std::string(cmd) + " --help");
    INFO(cmd);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("usage: psy"));
  }
  CHECK_THAT(run_psy("data split --help").out, Catch::Contains("(default: 66)"));
}

TEST_CASE("psy data stats reports the sample and its JSON form", "[cli][data]") {
  auto r = run_psy("data stats --json " + sample("psy_insight_sample_en.json"));
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["sessions"].get<int>() >= 10);
  CHECK(j["turns"].get<int>() > 50);
  auto text = run_psy("data stats " + sample("psy_insight_sample_en.json") + " " + sample("psy_insight_sample_zh.json"));
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("sentences per therapist response"));
}

TEST_CASE("psy data stats on bad input: exit 2 and the place; skip mode goes on", "[cli][data]") {
  psy::test::TempDir dir;
  psy::test::write_file(dir.file("bad.json"),
                        R"([{"dialog_id": "ok", "dialog": [{"speaker": "Seeker", "content": "x", "id": "0-0"}]},)"
                        "\n"
                        R"( {"dialog_id": "b2", "dialog": [{"speaker": "Seeker", "id": "0-7"}]}])");
  auto r = run_psy("data stats " + dir.file("bad.json"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("session index 1 (dialog_id b2), turn 0-7, field 'content'"));
  r = run_psy("data stats --json --on-error skip " + dir.file("bad.json"));
  CHECK(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["skipped_sessions"] == 1);
  CHECK_THAT(r.err, Catch::Contains("skipped 1 unusable session"));
  r = run_psy("data stats " + dir.file("missing.json"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("missing.json: cannot open"));
}

TEST_CASE("the real dataset statistics match the paper's counts", "[cli][shared]") {
  const std::string en = psy::test::shared_path("data/psy-insight/en_data_version7.json");
  const std::string zh = psy::test::shared_path("data/psy-insight/cn_data_version7.json");
  if (en.empty() || zh.empty()) return;
  auto e = nlohmann::json::parse(run_psy("data stats --json '" + en + "'").out);
  auto z = nlohmann::json::parse(run_psy("data stats --json '" + zh + "'").out);
  CHECK(e["sessions"] == 520);
  CHECK(e["turns"] == 6208);
  CHECK(z["sessions"] == 431);
  CHECK(z["turns"] == 5776);
}

TEST_CASE("psy data split writes disjoint, deterministic train and test files", "[cli][data]") {
  psy::test::TempDir dir;
  auto r1 = run_psy("data split " + sample("psy_insight_sample_en.json") + " --seed 5 --test-fraction 0.25 --out " +
                    dir.file("a"));
  auto r2 = run_psy("data split " + sample("psy_insight_sample_en.json") + " --seed 5 --test-fraction 0.25 --out " +
                    dir.file("b"));
  REQUIRE(r1.exit_code == 0);
  REQUIRE(r2.exit_code == 0);
  CHECK(psy::test::read_file(dir.file("a/test.json")) == psy::test::read_file(dir.file("b/test.json")));
  auto split = nlohmann::json::parse(psy::test::read_file(dir.file("a/split.json")));
  std::set<std::string> train, test;
  for (auto& id : split["train"]) train.insert(id.get<std::string>());
  for (auto& id : split["test"]) test.insert(id.get<std::string>());
  for (const auto& id : test) CHECK(train.count(id) == 0);
  auto test_sessions = nlohmann::json::parse(psy::test::read_file(dir.file("a/test.json")));
  CHECK(test_sessions.size() == test.size());
  auto again = run_psy("data stats --json " + dir.file("a/train.json"));
  CHECK(nlohmann::json::parse(again.out)["sessions"] == train.size());
  auto bad = run_psy("data split " + sample("psy_insight_sample_en.json") + " --test-fraction 1.5 --out " + dir.file("c"));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("test fraction"));
}

TEST_CASE("psy train refuses fp16 on a CPU before it loads the model", "[cli][train]") {
  psy::test::TempDir tmp;
  auto r = run_psy("train recipes/quickstart.yaml train.precision=fp16 model.path=" + tmp.file("no-model") +
                   " output=" + tmp.file("run"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("fp16 needs a CUDA device") && Catch::Contains("bf16"));
  CHECK_THAT(r.err, !Catch::Contains("no-model"));  // refused before the (absent) model was looked at
}
