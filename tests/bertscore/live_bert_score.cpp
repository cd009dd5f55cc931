// Live parity with the real bert_score package (.reference/venv, tests/reference/bert_score_pairs.py)
// on a real encoder, all-MiniLM-L6-v2 (.reference/models/all-minilm-l6-v2): P/R/F within 1e-5 on 200
// Psy-Insight pairs (consecutive therapist turns) per language, idf off and on, and bert_score's hash
// string in psy's signature. bert_score has no default layer for this model (model2layers lacks it:
// score() raises KeyError without num_layers), so both sides pass num_layers = 6, its last layer.
// Skips (with a message) without the venv, the model or ../shared.
#include "tests/io/torch_catch.h"  // LibTorch first, then Catch (keeps Catch's CHECK)
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <future>
#include <iostream>

#include "eval/bertscore/bert_scorer.h"
#include "eval/bertscore/bertscore_metric.h"
#include "libpsy/core/text_file.h"
#include "tests/test_support.h"

namespace {

constexpr size_t kPairs = 200;
constexpr int kLayers = 6;

// The first `n` pairs of consecutive therapist turns (hyp = a turn, ref = the next therapist turn).
void therapist_pairs(const std::string& data_path, size_t n, std::vector<std::string>& hyps, std::vector<std::string>& refs) {
  const auto data = nlohmann::json::parse(psy::read_text_file(data_path));
  for (const auto& session : data) {
    std::vector<std::string> turns;
    if (!session.contains("dialog") || !session["dialog"].is_array()) continue;
    for (const auto& turn : session["dialog"])
      if (turn.value("speaker", "") == "Supporter" && turn.contains("content") && turn["content"].is_string())
        turns.push_back(turn["content"].get<std::string>());
    for (size_t i = 0; i + 1 < turns.size() && hyps.size() < n; ++i) {
      hyps.push_back(turns[i]);
      refs.push_back(turns[i + 1]);
    }
    if (hyps.size() >= n) break;
  }
}

}  // namespace

TEST_CASE("BERTScore with all-MiniLM-L6-v2 equals the bert_score package on 200 Psy-Insight pairs per language") {
  if (psy::test::reference_python().empty()) return;
  const std::string model = psy::test::reference_path("models/all-minilm-l6-v2");
  if (model.empty()) return;
  struct Lang {
    std::string name, file;
    std::vector<std::string> hyps, refs;
    std::string pairs_path;
    std::future<psy::test::RunResult> run;
  };
  std::vector<Lang> langs(2);
  langs[0].name = "en";
  langs[0].file = "en_data_version7.json";
  langs[1].name = "zh";
  langs[1].file = "cn_data_version7.json";
  psy::test::TempDir tmp;
  for (auto& l : langs) {
    const std::string data = psy::test::shared_path("data/psy-insight/" + l.file);
    if (data.empty()) return;
    therapist_pairs(data, kPairs, l.hyps, l.refs);
    REQUIRE(l.hyps.size() == kPairs);
    l.pairs_path = tmp.file(l.name + ".jsonl");
    std::ofstream out(l.pairs_path);
    for (size_t i = 0; i < l.hyps.size(); ++i) out << nlohmann::json{{"hyp", l.hyps[i]}, {"ref", l.refs[i]}}.dump() << "\n";
  }
  // bert_score in Python (one thread each) for both languages while psy scores.
  for (auto& l : langs) {
    const std::string args = psy::test::shell_quote(model) + " " + std::to_string(kLayers) + " " + psy::test::shell_quote(l.pairs_path);
    l.run = std::async(std::launch::async, [args] { return psy::test::run_reference_python("tests/reference/bert_score_pairs.py", args); });
  }
  torch::set_num_threads(1);
  for (auto& l : langs) {
    std::map<std::string, psy::eval::BertScores> ours;
    std::map<std::string, std::string> hashes;
    for (bool idf : {false, true}) {
      psy::eval::BertScoreOptions o;
      o.model_dir = model;
      o.num_layers = kLayers;
      o.idf = idf;
      psy::eval::BertScorer scorer(o);
      ours[idf ? "idf" : "no-idf"] = scorer.score(l.hyps, l.refs);
      hashes[idf ? "idf" : "no-idf"] = psy::eval::bertscore_signature("bertscore_f", o);
    }
    const auto py = l.run.get();
    INFO(py.err);
    REQUIRE(py.exit_code == 0);
    const auto ref = nlohmann::json::parse(py.out);
    for (const std::string mode : {"no-idf", "idf"}) {
      const auto& want = ref[mode];
      const auto& got = ours[mode];
      double max_diff = 0;
      for (size_t i = 0; i < kPairs; ++i) {
        max_diff = std::max(max_diff, std::fabs(want["P"][i].get<double>() - got.precision[i]));
        max_diff = std::max(max_diff, std::fabs(want["R"][i].get<double>() - got.recall[i]));
        max_diff = std::max(max_diff, std::fabs(want["F"][i].get<double>() - got.f1[i]));
      }
      std::cout << "bert_score parity " << l.name << " " << mode << ": " << kPairs << " pairs, max |P/R/F diff| " << max_diff
                << " (bert_score " << want["seconds"].get<double>() << " s)\n";
      INFO(l.name << " " << mode);
      CHECK(max_diff <= 1e-5);
      CHECK_THAT(hashes[mode], Catch::Contains("|hash:" + want["hash"].get<std::string>() + "|"));
    }
  }
}
