// psy eval end to end on a tiny random model and a tokenizer trained at test time from the
// bundled sample: outputs, the held-out split, CoT parse failures, resume, psy report.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "libpsy/data/load_sessions.h"
#include "libpsy/data/split.h"
#include "libpsy/evaluate/generated_cot.h"
#include "libpsy/evaluate/held_out_examples.h"
#include "libpsy/evaluate/prediction_record.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/text/tokenizer_train.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using psy::test::run_psy;

namespace {

const std::string kSample = "data/sample/psy_insight_sample_en.json";

std::string fixture(const std::string& name) { return psy::test::source_dir() + "/tests/fixtures/evaluate/" + name; }

// A tokenizer trained in-process on the sample, made once for all tests.
struct TinyTokenizer {
  psy::test::TempDir dir;
  TinyTokenizer() {
    psy::TokenizerTrainOptions o;  // in-process: the test executable does not link LibTorch
    o.inputs = {psy::test::source_dir() + "/" + kSample};
    o.vocab_size = 600;
    psy::write_tokenizer(psy::train_tokenizer(o), dir.file("tok"));
  }
  std::string path() const { return dir.file("tok"); }
};
const TinyTokenizer& tiny_tokenizer() {
  static TinyTokenizer t;
  return t;
}

// A random tiny Llama with that vocabulary (psy init-model).
struct TinyModel {
  psy::test::TempDir dir;
  std::string model;
  TinyModel() {
    model = dir.file("model");
    auto r = run_psy("init-model --config " + fixture("tiny_llama_config.json") + " --tokenizer " +
                     tiny_tokenizer().path() + " --out " + model + " --seed 5");
    REQUIRE(r.exit_code == 0);
  }
};
TinyModel& tiny() {
  static TinyModel m;
  return m;
}

std::string eval_args(const std::string& out, const std::string& extra = "") {
  const std::string sample = psy::test::source_dir() + "/" + kSample;
  return "eval " + fixture("eval_recipe.yaml") + " model.path=" + tiny().model + " data.path=[" + sample + "] --base --out " +
         out + " --quiet --score-threads 1 " + extra;
}

std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The end-to-end tests run the psy executable; it must start (it once crashed at start-up when
// SentencePiece's bundled protobuf met LibTorch's: see libpsy/text/spm_shim.cpp).
bool psy_runs() {
  static const int code = run_psy("--version").exit_code;
  INFO("psy --version exit code " << code);
  REQUIRE(code == 0);
  return true;
}

psy::Recipe test_recipe() {
  return psy::load_recipe(fixture("eval_recipe.yaml"),
                          {"model.path=" + tiny().model, "data.path=[" + psy::test::source_dir() + "/" + kSample + "]"});
}

}  // namespace

TEST_CASE("generated CoT: well-formed by task, tolerant of malformed text", "[evaluate]") {
  const psy::CotMarkers m{"Observation:", "Reasoning:", "Response:"};
  psy::CotSections gold{"calm", "why", "hello"};
  auto g = psy::interpret_generation("Observation: tense\nReasoning: because\nResponse: hi there", "observation_reasoning_dialog", gold, m);
  CHECK(g.well_formed);
  CHECK(g.parsed.response == "hi there");
  g = psy::interpret_generation("Reasoning: because\nResponse: hi", "observation_reasoning_dialog", gold, m);
  CHECK_FALSE(g.well_formed);  // gold has an observation, the generation none
  gold.observation.clear();
  CHECK(psy::interpret_generation("Reasoning: because\nResponse: hi", "observation_reasoning_dialog", gold, m).well_formed);
  CHECK_FALSE(psy::interpret_generation("just words", "reasoning_dialog", gold, m).well_formed);
  CHECK(psy::interpret_generation("just words", "dialog", gold, m).well_formed);
  CHECK_FALSE(psy::interpret_generation("Reasoning: x", "dialog", gold, m).well_formed);
}

TEST_CASE("psy eval: outputs, held-out split, parse failures, resume, psy report", "[evaluate]") {
  if (!psy_runs()) return;
  psy::test::TempDir work;
  const std::string full = work.file("full");
  auto r = run_psy(eval_args(full));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  // The held-out set: the sessions split_sessions puts in test, the same call training makes.
  const psy::Recipe recipe = test_recipe();
  auto loaded = psy::load_sessions(psy::test::source_dir() + "/" + kSample);
  std::vector<psy::Session> train, test;
  psy::split_sessions(loaded.sessions, recipe.data.test_fraction, static_cast<uint64_t>(recipe.seed), train, test);
  std::set<std::string> test_ids, train_ids;
  for (const auto& s : test) test_ids.insert(s.dialog_id);
  for (const auto& s : train) train_ids.insert(s.dialog_id);
  const psy::Tokenizer tok = psy::Tokenizer::load(tiny_tokenizer().path());
  const psy::HeldOutSet held = psy::held_out_examples(recipe, tok, psy::eval_prompt_budget(recipe));
  REQUIRE(held.examples.size() == 7);  // eval.max_samples
  CHECK(held.available >= 7);

  const auto lines = read_lines(full + "/predictions.jsonl");
  REQUIRE(lines.size() == 7);
  size_t well_formed = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& j = lines[i];
    CHECK(j["id"] == held.examples[i].id);
    CHECK(test_ids.count(j["session"].get<std::string>()) == 1);
    CHECK(train_ids.count(j["session"].get<std::string>()) == 0);
    CHECK(j["gold"]["response"] == held.examples[i].prompt.gold.response);
    CHECK(j["gold"]["response"].get<std::string>().size() > 0);
    CHECK(j["prompt"].get<std::string>().find("[INST]") != std::string::npos);
    CHECK(j["new_tokens"].get<long>() <= 6);
    CHECK(j["generation"].is_string());
    for (const char* k : {"observation", "reasoning", "response"}) CHECK(j["parsed"][k].is_string());
    for (const char* k : {"bleu1", "bleu3", "meteor", "rougeL"}) CHECK(j["scores"].contains(k));
    well_formed += j["parsed"]["well_formed"].get<bool>() ? 1 : 0;
  }

  const auto m = nlohmann::json::parse(psy::test::read_file(full + "/metrics.json"));
  CHECK(m["name"] == "eval-test (base model)");  // --base: the base model's row
  CHECK(m["task"] == "observation_reasoning_dialog");
  CHECK(m["n_examples"] == 7);
  for (const char* k : {"bleu1", "bleu3", "meteor", "rougeL"}) {
    REQUIRE(m["metrics"].contains(k));
    CHECK(m["metrics"][k]["ci95"].size() == 2);
    CHECK(m["metrics"][k]["signature"].get<std::string>().size() > 0);
  }
  CHECK(m["metrics"].contains("distinct2"));
  CHECK(m["sections"].contains("reasoning"));
  CHECK(m["sections"]["reasoning"]["n_pairs"].get<long>() > 0);
  // A random model with 6 new tokens cannot write three marked sections: failures are counted.
  CHECK(m["parse_failures"].get<size_t>() == 7 - well_formed);
  CHECK(m["parse_failures"].get<size_t>() > 0);
  CHECK(m["cot_parse_rate"].get<double>() == Approx(static_cast<double>(well_formed) / 7));
  std::vector<std::string> split_ids = m["data"]["test_dialog_ids"];
  CHECK(std::set<std::string>(split_ids.begin(), split_ids.end()) == test_ids);
  CHECK(m["model"]["files"].size() == 2);  // config.json + model.safetensors
  CHECK(m["model"]["files"][0]["sha256"].get<std::string>().size() == 64);
  CHECK(m["adapter"].is_null());

  SECTION("an interrupted run resumes and writes what an uninterrupted one does") {
    const std::string part = work.file("part");
    fs::create_directories(part);
    fs::copy_file(full + "/eval_settings.json", part + "/eval_settings.json");
    {
      std::ofstream o(part + "/predictions.jsonl", std::ios::binary);
      for (size_t i = 0; i < 5; ++i) o << lines[i].dump() << "\n";  // 5 complete lines (mid-batch)
      o << lines[5].dump().substr(0, 40);                              // and a cut-off one
    }
    r = run_psy(eval_args(part));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("5 resumed, 2 generated") != std::string::npos);
    const auto again = read_lines(part + "/predictions.jsonl");
    REQUIRE(again.size() == lines.size());
    for (size_t i = 0; i < lines.size(); ++i) CHECK(again[i] == lines[i]);
    const auto m2 = nlohmann::json::parse(psy::test::read_file(part + "/metrics.json"));
    CHECK(m2["metrics"] == m["metrics"]);
    CHECK(m2["resumed"] == 5);
  }

  SECTION("other settings are refused unless --overwrite") {
    r = run_psy(eval_args(full, "eval.max_new_tokens=4"));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("max_new_tokens") != std::string::npos);
    r = run_psy(eval_args(full, "eval.max_new_tokens=4 eval.max_samples=3 --overwrite"));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(read_lines(full + "/predictions.jsonl").size() == 3);
  }

  SECTION("psy report reads the run folder") {
    r = run_psy("report " + full);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    // --base names the row as the base model's; the CoT parse rate is a column beside the metrics.
    CHECK(r.out.find("eval-test (base model)") != std::string::npos);
    CHECK(r.out.find("CoT parsed") != std::string::npos);
  }
}

TEST_CASE("psy eval: sampling is seeded, so runs repeat", "[evaluate]") {
  if (!psy_runs()) return;
  psy::test::TempDir work;
  const std::string extra = "eval.decoding=sample eval.temperature=0.8 eval.top_k=20 eval.top_p=0.9 eval.max_samples=4";
  auto a = run_psy(eval_args(work.file("a"), extra));
  auto b = run_psy(eval_args(work.file("b"), extra));
  INFO(a.err << b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  const auto la = read_lines(work.file("a") + "/predictions.jsonl");
  const auto lb = read_lines(work.file("b") + "/predictions.jsonl");
  REQUIRE(la.size() == 4);
  REQUIRE(lb.size() == 4);
  for (size_t i = 0; i < 4; ++i) CHECK(la[i]["generation"] == lb[i]["generation"]);
}

TEST_CASE("predictions.jsonl: records round-trip; a cut-off last line is dropped, a damaged middle line refused", "[evaluate]") {
  psy::test::TempDir dir;
  psy::PredictionRecord r;
  r.id = "s1:0-2";
  r.session = "s1";
  r.turn = "0-2";
  r.task = "observation_reasoning_dialog";
  r.prompt = "[INST] hi [/INST]";
  r.retrieved = {"s7", "s3"};
  r.gold = {"calm", "because", "hello there"};
  r.generation = "Reasoning: x\nResponse: hi";
  r.parsed = {"", "x", "hi"};
  r.well_formed = false;
  r.new_tokens = 5;
  r.scores = {{"bleu1", 0.25}, {"meteor", std::nan("")}};
  r.section_scores["reasoning"] = {{"bleu1", 0.0}};
  const std::string line = psy::to_json(r).dump();
  const auto back = psy::record_from_json(nlohmann::json::parse(line), "x");
  CHECK(psy::to_json(back).dump() == line);
  CHECK(nlohmann::json::parse(line)["scores"]["meteor"].is_null());
  CHECK(back.retrieved == std::vector<std::string>{"s7", "s3"});
  psy::PredictionRecord plain = r;  // a task without retrieval writes no "retrieved"
  plain.retrieved.clear();
  CHECK_FALSE(nlohmann::json::parse(psy::to_json(plain).dump()).contains("retrieved"));

  psy::test::write_file(dir.file("p.jsonl"), line + "\n" + line + "\n" + line.substr(0, 30));
  size_t partial = 0;
  CHECK(psy::read_predictions(dir.file("p.jsonl"), &partial).size() == 2);
  CHECK(partial == 1);
  psy::test::write_file(dir.file("q.jsonl"), line + "\n{broken\n" + line + "\n");
  CHECK_THROWS_WITH(psy::read_predictions(dir.file("q.jsonl")), Catch::Contains("q.jsonl:2"));
  CHECK(psy::read_predictions(dir.file("missing.jsonl")).empty());
}

TEST_CASE("predictions.jsonl: a field of the wrong type or a number beyond a double is one line naming FILE:LINE (fuzz/)", "[evaluate]") {
  psy::test::TempDir dir;
  psy::PredictionRecord r;
  r.id = r.session = r.turn = r.task = "x";
  const std::string line = psy::to_json(r).dump();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = line;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  psy::test::write_file(dir.file("a.jsonl"), line + "\n" + with("\"well_formed\":false", "\"well_formed\":0") + "\n");
  CHECK_THROWS_WITH(psy::read_predictions(dir.file("a.jsonl")), Catch::Contains("a.jsonl:2") && Catch::Contains("well_formed"));
  const std::string no_retrieved = with("\"prompt\":\"\"", "\"prompt\":\"\",\"retrieved\":[\"s2\",3]");
  psy::test::write_file(dir.file("r.jsonl"), no_retrieved + "\n" + line + "\n");
  CHECK_THROWS_WITH(psy::read_predictions(dir.file("r.jsonl")), Catch::Contains("r.jsonl:1") && Catch::Contains("retrieved"));
  psy::test::write_file(dir.file("b.jsonl"), with("\"new_tokens\":0", "\"new_tokens\":\"7\"") + "\n");
  CHECK_THROWS_WITH(psy::read_predictions(dir.file("b.jsonl")), Catch::Contains("b.jsonl:1") && Catch::Contains("new_tokens"));
  psy::test::write_file(dir.file("c.jsonl"), with("\"new_tokens\":0", "\"new_tokens\":1e999") + "\n" + line + "\n");
  CHECK_THROWS_WITH(psy::read_predictions(dir.file("c.jsonl")), Catch::Contains("c.jsonl:1"));
  size_t partial = 0;  // the same number on the last line: unreadable like a torn line, dropped
  psy::test::write_file(dir.file("d.jsonl"), line + "\n" + with("\"new_tokens\":0", "\"new_tokens\":1e999") + "\n");
  CHECK(psy::read_predictions(dir.file("d.jsonl"), &partial).size() == 1);
  CHECK(partial == 1);
}

TEST_CASE("held-out examples on the released English data: training's split, unique ids", "[evaluate]") {
  const std::string en = psy::test::shared_path("data/psy-insight/en_data_version7.json");
  if (en.empty()) return;
  psy::Recipe recipe = psy::parse_recipe("{}", "paper-split", {"data.path=[" + en + "]", "data.test_fraction=0.15",
                                                               "seed=66", "data.task=dialog",
                                                               "data.max_seq_len=1024", "eval.max_new_tokens=16"});
  const psy::Tokenizer tok = psy::Tokenizer::load(tiny_tokenizer().path());
  const psy::HeldOutSet held = psy::held_out_examples(recipe, tok, psy::eval_prompt_budget(recipe));
  auto loaded = psy::load_sessions(en);
  const psy::SessionSplit split = psy::split_sessions(loaded.sessions.size(), 0.15, 66);
  REQUIRE(held.test_dialog_ids.size() == split.test.size());
  CHECK(held.test_sessions == 78);  // ceil(0.15 * 520)
  std::set<std::string> test_ids;
  size_t therapist_turns = 0;
  for (size_t k = 0; k < split.test.size(); ++k) {
    const auto& s = loaded.sessions[split.test[k]];
    test_ids.insert(s.dialog_id);
    for (const auto& t : s.turns) therapist_turns += t.is_therapist() && !t.content.empty() ? 1 : 0;
  }
  CHECK(std::set<std::string>(held.test_dialog_ids.begin(), held.test_dialog_ids.end()) == test_ids);
  CHECK(held.examples.size() + held.dropped_too_long == therapist_turns);
  CHECK(held.examples.size() > therapist_turns / 2);
  std::set<std::string> ids;
  for (const auto& e : held.examples) {
    CHECK(test_ids.count(e.prompt.session_id) == 1);
    ids.insert(e.id);
  }
  CHECK(ids.size() == held.examples.size());  // repeated turn ids of the release get "#2"...
}
