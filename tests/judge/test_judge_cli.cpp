// psy judge and psy eval's eval.judge, end to end through the psy executable: bad input is one
// line and exit 2; with SmolLM2-135M-Instruct as the judge (reference stack), judgements and
// summaries agree with each other, the retry and unscored paths run, reruns reuse judgements,
// and psy report shows the judge's means beside the lexical metrics. The scores of so small a
// judge mean little: what is checked is the mechanism.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using psy::test::run_psy;
using psy::test::shell_quote;

namespace {

std::string fixture(const std::string& name) { return psy::test::source_dir() + "/tests/fixtures/judge/" + name; }

std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// One line on stderr, exit 2, containing `what`.
void check_bad_input(const psy::test::RunResult& r, const std::string& what) {
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(what) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

// judgements_NAME.jsonl and judge_NAME.json agree: every line is scored after one or two
// attempts (a second only after a malformed first), the counts and means match the lines.
void check_consistent(const std::string& dir, const std::string& rubric, size_t n, const std::string& dimension,
                      int lo, int hi) {
  const auto lines = read_lines(dir + "/judgements_" + rubric + ".jsonl");
  const auto summary = nlohmann::json::parse(psy::test::read_file(dir + "/judge_" + rubric + ".json"));
  REQUIRE(lines.size() == n);
  size_t scored = 0, retried = 0, rescued = 0;
  double sum = 0;
  std::vector<std::string> unscored;
  for (const auto& j : lines) {
    const size_t attempts = j["attempts"];
    CHECK(attempts == j["answers"].size());
    CHECK((attempts == 1 || attempts == 2));
    const bool ok = j["scored"];
    CHECK(j["problems"].size() == attempts - (ok ? 1 : 0));
    if (attempts == 2) ++retried;
    if (ok) {
      ++scored;
      if (attempts == 2) ++rescued;
      const int v = j["scores"][dimension];
      CHECK(v >= lo);
      CHECK(v <= hi);
      sum += v;
    } else {
      CHECK(j["scores"].is_null());
      unscored.push_back(j["id"]);
    }
  }
  CHECK(summary["n_examples"] == n);
  CHECK(summary["n_scored"] == scored);
  CHECK(summary["n_unscored"] == n - scored);
  CHECK(summary["unscored_ids"] == unscored);
  CHECK(summary["retried"] == retried);
  CHECK(summary["rescued_by_retry"] == rescued);
  const auto& d = summary["dimensions"][dimension];
  if (scored == 0) {
    CHECK(d["mean"].is_null());
  } else {
    CHECK(d["mean"].get<double>() == Approx(sum / static_cast<double>(scored)));
    CHECK(d["ci95"][0].get<double>() <= d["mean"].get<double>());
    CHECK(d["ci95"][1].get<double>() >= d["mean"].get<double>());
  }
  const std::string sig = summary["signature"];
  CHECK(sig.find("judge:" + rubric + "|rubric:sha256:") == 0);
  CHECK(sig.find("|model:smollm2-135m-instruct@") != std::string::npos);
  CHECK(sig.find("|template:auto@") != std::string::npos);
  CHECK(sig.find("|decoding:greedy|") != std::string::npos);
  CHECK(summary["judge"]["files"].size() >= 3);  // config, weights, tokenizer: each with its sha256
}

}  // namespace

TEST_CASE("psy judge: bad rubric, missing model, malformed predictions are one line and exit 2") {
  psy::test::TempDir dir;
  // A folder that passes the model checks (the errors below come before any loading).
  std::filesystem::create_directories(dir.file("model"));
  psy::test::write_file(dir.file("model/config.json"), "{}");
  psy::test::write_file(dir.file("model/tokenizer.json"), "{}");
  // --out: nothing (not even psy judge's folder lock) is written next to the fixtures.
  const std::string model = " --model " + dir.file("model") + " --chat-template none --out " + dir.file("out");
  const std::string preds = fixture("predictions.jsonl");
  const std::string rubric = " --rubric " + psy::test::source_dir() + "/rubrics/cpsycoun.yaml";

  check_bad_input(run_psy("judge " + preds + rubric + " --model " + dir.file("none") + " --out " + dir.file("out")),
                  "judge model " + dir.file("none") + ": no such folder");
  check_bad_input(run_psy("judge " + preds + " --rubric " + dir.file("nope.yaml") + model),
                  dir.file("nope.yaml") + ": no such rubric file");
  psy::test::write_file(dir.file("bad.yaml"), "name: bad\nprompt: '{reply}'\ndimensions:\n  - {name: a, min: 5, max: 1, description: d}\n");
  check_bad_input(run_psy("judge " + preds + " --rubric " + dir.file("bad.yaml") + model),
                  dir.file("bad.yaml") + ":4: field 'dimensions[0].max': expected a number above min (5), found 1");
  check_bad_input(run_psy("judge " + dir.file("missing.jsonl") + rubric + model), "missing.jsonl: no such predictions file");
  psy::test::write_file(dir.file("empty.jsonl"), "\n");
  check_bad_input(run_psy("judge " + dir.file("empty.jsonl") + rubric + model), "empty.jsonl: no predictions");
  const std::string good = psy::test::read_file(preds);
  psy::test::write_file(dir.file("p1.jsonl"), good + "{\"id\": \"x\", \"session\": \"s\"}\n" + good);
  check_bad_input(run_psy("judge " + dir.file("p1.jsonl") + rubric + model), "p1.jsonl:4: field 'turn' is missing");
  psy::test::write_file(dir.file("p2.jsonl"), good + "{not json\n" + good);
  check_bad_input(run_psy("judge " + dir.file("p2.jsonl") + rubric + model), "p2.jsonl:4: not valid JSON");
  check_bad_input(run_psy("judge " + preds + rubric + model + " --dtype fp16"), "fp16 needs a CUDA device");
  // A folder that is not a model (config.json without model_type) is found before anything is judged.
  check_bad_input(run_psy("judge " + preds + rubric + model), "config.json: field 'model_type': missing");
  check_bad_input(run_psy("judge " + preds + rubric + rubric + model), "rubric name 'cpsycoun' is also the name of");
  CHECK_FALSE(std::filesystem::exists(dir.file("out")));  // bad input: no output folder, no lock file
  // --show-prompt prints what the judge would be asked, without a model.
  const auto shown = run_psy("judge " + preds + rubric + " --show-prompt");
  CHECK(shown.exit_code == 0);
  CHECK(shown.out.find("=== cpsycoun") == 0);
  CHECK(shown.out.find("Counselor's reply to rate:\n<<<\nIt sounds exhausting to carry that much.") != std::string::npos);
  CHECK(shown.out.find("\nsafety: <integer from 0 to 1>\n") != std::string::npos);
  // The recipe refuses bad judge settings the same way.
  const std::string recipe = psy::test::source_dir() + "/recipes/quickstart.yaml";
  check_bad_input(run_psy("recipe show " + recipe + " eval.judge.batch_size=0"), "eval.judge.batch_size");
  check_bad_input(run_psy("recipe show " + recipe + " eval.judge.model=m eval.judge.rubrics=[]"), "eval.judge.rubrics");
}

TEST_CASE("psy judge with SmolLM2: judgements, retry, unscored count, resume, psy report") {
  const std::string smol = psy::test::reference_path("models/smollm2-135m-instruct");
  if (smol.empty()) return;
  psy::test::TempDir dir;
  const std::string cmd = "judge " + fixture("predictions.jsonl") + " --rubric " + fixture("one_line.yaml") +
                          " --rubric " + fixture("out_of_range.yaml") + " --model " + smol +
                          " --max-new-tokens 8 --threads 2 --out " + dir.path();
  auto r = run_psy(cmd);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("psy judge: loading") != std::string::npos);
  CHECK(r.out.find("one_line: ") == 0);
  check_consistent(dir.path(), "one_line", 3, "kindness", 1, 5);
  check_consistent(dir.path(), "out_of_range", 3, "kindness", 1, 3);
  // SmolLM2 copies the example answer, which this rubric's range refuses: the retry path ran.
  const auto oor = nlohmann::json::parse(psy::test::read_file(dir.file("judge_out_of_range.json")));
  CHECK(oor["retried"].get<int>() > 0);
  const auto first = read_lines(dir.file("judgements_out_of_range.jsonl"));
  for (const auto& j : first)
    if (j["attempts"] == 2) CHECK(j["problems"][0].get<std::string>().find("kindness") != std::string::npos);

  // The same inputs again: nothing is asked, the model is not even loaded, the files are the same.
  const std::string before = psy::test::read_file(dir.file("judgements_one_line.jsonl"));
  r = run_psy(cmd);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("psy judge: loading") == std::string::npos);
  CHECK(r.out.find("3 reused, 0 judged") != std::string::npos);
  CHECK(psy::test::read_file(dir.file("judgements_one_line.jsonl")) == before);

  // psy report shows the judge's means as columns of the run folder.
  r = run_psy("report " + dir.path() + " --ci");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto one = nlohmann::json::parse(psy::test::read_file(dir.file("judge_one_line.json")));
  if (one["n_scored"].get<int>() > 0) CHECK(r.out.find("judge.one_line.kindness") != std::string::npos);
  CHECK(r.out.find("judge.out_of_range.scored") != std::string::npos);  // the share scored, always shown
}

TEST_CASE("psy eval with eval.judge judges the predictions it wrote") {
  const std::string smol = psy::test::reference_path("models/smollm2-135m-instruct");
  if (smol.empty()) return;
  psy::test::TempDir dir;
  const std::string eval_cmd = "eval " + fixture("eval_judge_recipe.yaml") + " model.path=" + smol + " eval.judge.model=" +
                               smol + " data.path=[" + psy::test::source_dir() + "/data/sample/psy_insight_sample_en.json]" +
                               " eval.judge.rubrics=[" + fixture("one_line.yaml") + "] --base --out " + dir.path() +
                               " --score-threads 1";
  auto r = run_psy(eval_cmd);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("psy eval: judge one_line: ") != std::string::npos);
  check_consistent(dir.path(), "one_line", 2, "kindness", 1, 5);
  const auto preds = read_lines(dir.file("predictions.jsonl"));
  const auto judged = read_lines(dir.file("judgements_one_line.jsonl"));
  REQUIRE(preds.size() == 2);
  CHECK(judged[0]["id"] == preds[0]["id"]);
  CHECK(judged[1]["id"] == preds[1]["id"]);
  // Run again: the predictions are complete and the judgements reused; no model is loaded.
  const std::string before = psy::test::read_file(dir.file("judgements_one_line.jsonl"));
  r = run_psy(eval_cmd);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("psy judge: loading") == std::string::npos);
  CHECK(psy::test::read_file(dir.file("judgements_one_line.jsonl")) == before);
  // A bad judge setting fails before anything is generated.
  psy::test::TempDir other;
  r = run_psy("eval " + fixture("eval_judge_recipe.yaml") + " model.path=" + smol + " eval.judge.model=" + other.file("none") +
              " --base --quiet --out " + other.path());
  check_bad_input(r, "judge model " + other.file("none") + ": no such folder");
  CHECK_FALSE(psy::test::read_file(other.file("predictions.jsonl")).size() > 0);
}
