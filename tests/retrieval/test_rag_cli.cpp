// psy data build with the rag tasks, run as a user would: the retrieved cases in --show, the
// `retrieved` ids and the sample's `split` in --export, retrieval from the training split only,
// the index cached in the run folder, and one-line exit-2 refusals of bad retrieval input.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/split.h"
#include "tests/retrieval/tiny_sentence_encoder.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using psy::test::run_psy;

namespace {

struct Setup {
  psy::test::TempDir dir;
  std::string encoder = psy::test::write_tiny_sentence_encoder(dir.file("encoder"));

  std::string recipe(const std::string& extra = "", const std::string& data = psy::test::sample_en_path(),
                     const std::string& task = "rag_dialog") const {
    const std::string text = "name: rag-cli\nseed: 66\noutput: " + dir.file("run") + "\n"
                             "model: {tokenizer: " + psy::test::tiny_tokenizer_dir() + ", chat_template: mistral}\n"
                             "data: {path: [" + data + "], lang: en, task: " + task + ", unit: turn, test_fraction: 0.25, "
                             "max_seq_len: 4096, retrieval_encoder: " + encoder + ", retrieval_k: 2" + extra + "}\n";
    const std::string path = dir.file("recipe.yaml");
    psy::test::write_file(path, text);
    return path;
  }
};

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(psy::test::read_file(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("psy data build shows and exports the retrieved cases of rag samples", "[retrieval][cli]") {
  Setup s;
  const std::string recipe = s.recipe();
  auto show = run_psy("data build " + recipe + " --show 1 --no-color");
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("retrieved cases (best first): s-en-") != std::string::npos);
  CHECK(show.out.find("Similar cases:\n[1] Topic: ") != std::string::npos);
  CHECK(psy::path_exists(s.dir.file("run/retrieval/retrieval-index.json")));
  CHECK(show.err.find("loaded from the run folder") == std::string::npos);

  const auto all = psy::load_sessions(psy::test::sample_en_path()).sessions;
  std::vector<psy::Session> train, test;
  psy::split_sessions(all, 0.25, 66, train, test);
  std::set<std::string> train_ids, test_ids;
  for (const auto& x : train) train_ids.insert(x.dialog_id);
  for (const auto& x : test) test_ids.insert(x.dialog_id);

  auto exp = run_psy("data build " + recipe + " --split test --export " + s.dir.file("test.jsonl"));
  REQUIRE(exp.exit_code == 0);
  CHECK(exp.err.find("retrieval index loaded from the run folder") != std::string::npos);  // built once per run
  const auto records = read_jsonl(s.dir.file("test.jsonl"));
  REQUIRE(!records.empty());
  for (const auto& r : records) {
    CHECK(r["split"] == "test");
    CHECK(test_ids.count(r["session_id"].get<std::string>()) == 1);
    REQUIRE(r["retrieved"].size() == 2);
    for (const auto& id : r["retrieved"]) {
      CHECK(train_ids.count(id.get<std::string>()) == 1);  // never a test session
      CHECK(test_ids.count(id.get<std::string>()) == 0);
    }
  }
  REQUIRE(run_psy("data build " + recipe + " --split all --export " + s.dir.file("all.jsonl") + " --format messages")
              .exit_code == 0);
  std::set<std::string> splits;
  for (const auto& r : read_jsonl(s.dir.file("all.jsonl"))) {
    const std::string id = r["session_id"];
    CHECK(r["split"] == (test_ids.count(id) ? "test" : "train"));
    splits.insert(r["split"].get<std::string>());
    for (const auto& c : r["retrieved"]) CHECK(c.get<std::string>() != id);
  }
  CHECK(splits.size() == 2);

  auto expl = run_psy("data build " + s.recipe("", psy::test::sample_en_path(), "rag_dialog_explanation") +
                      " --show 1 --no-color");
  REQUIRE(expl.exit_code == 0);
  CHECK(expl.out.find("[[Reasoning: ") != std::string::npos);
}

TEST_CASE("bad retrieval input: one line each, exit 2", "[retrieval][cli][errors]") {
  Setup s;
  // An encoder folder that is not a BERT-family sentence encoder.
  psy::make_dirs(s.dir.file("llama"));
  psy::test::write_file(s.dir.file("llama/config.json"), "{\"model_type\": \"llama\"}");
  auto r = run_psy("data build " + s.recipe() + " data.retrieval_encoder=" + s.dir.file("llama"));
  CHECK(r.exit_code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find("data.retrieval_encoder") != std::string::npos);
  CHECK(r.err.find("model_type") != std::string::npos);
  CHECK(r.err.find("\"llama\"") != std::string::npos);
  // k larger than the training split (9 training sessions of 12).
  r = run_psy("data build " + s.recipe() + " data.retrieval_k=9");
  CHECK(r.exit_code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find("data.retrieval_k: 9 is larger than the training split allows (9 training sessions") != std::string::npos);
  CHECK(r.err.find("expected at most 8") != std::string::npos);
  // A retrieval field absent from the data.
  auto data = nlohmann::json::parse(psy::test::read_file(psy::test::sample_en_path()));
  for (auto& session : data) session.erase("guide");
  psy::test::write_file(s.dir.file("no-guide.json"), data.dump());
  r = run_psy("data build " + s.recipe("", s.dir.file("no-guide.json")));
  CHECK(r.exit_code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find("data.retrieval_fields: field 'guide' is absent (empty) in all 9 training sessions of " +
                   s.dir.file("no-guide.json")) != std::string::npos);
  // No encoder at all.
  r = run_psy("data build " + s.recipe() + " \"data.retrieval_encoder=''\"");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("data.retrieval_encoder: empty") != std::string::npos);
}
