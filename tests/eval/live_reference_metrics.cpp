// Live parity with the reference packages in .reference/venv (tests/reference/*.py print JSON):
//  * ROUGE-1/2/L/Lsum per pair = rouge_score 0.1.2 (default tokenizer with and without its
//    stemmer; jieba and character tokens for Chinese), on our multi-line fixture and, when
//    ../shared is present, on the golden en/zh/edge pairs;
//  * sacrebleu corpus BLEU (13a and zh tokenizers; exp, floor, add-k, none; custom values) and
//    its signature string;
//  * the Psy-Insight paper's own recipe (NLTK BLEU/METEOR, rouge_score on raw strings, the
//    lsy641/distinct recipe) on every pair of consecutive therapist turns of both data files.
// Skips (with a message) when the venv or ../shared is absent.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/jieba_segmenter.h"
#include "eval/scoring.h"
#include "tests/test_support.h"

namespace {

using nlohmann::json;
using psy::eval::Protocol;
using psy::eval::ScoringOptions;
using psy::eval::Scorer;

struct Pairs {
  std::vector<std::string> hyps, refs;
};

Pairs read_pairs(const std::string& path) {
  Pairs p;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = json::parse(line);
    p.hyps.push_back(j["hyp"].get<std::string>());
    p.refs.push_back(j["ref"].get<std::string>());
  }
  return p;
}

psy::eval::ScoringResult score(const Pairs& pairs, ScoringOptions o) {
  o.bootstrap_resamples = 0;
  Scorer s(o, psy::eval::load_scoring_resources(o));
  s.add_batch(pairs.hyps, pairs.refs, 2);
  return s.finish();
}

const std::vector<std::string> kRougeMetrics = {"rouge1_p", "rouge1_r", "rouge1",   "rouge2_p",   "rouge2_r",   "rouge2",
                                                "rougeL_p", "rougeL_r", "rougeL",   "rougeLsum_p", "rougeLsum_r", "rougeLsum"};

const psy::eval::MetricValue& metric(const psy::eval::ScoringResult& r, const std::string& name) {
  for (const auto& v : r.corpus)
    if (v.name == name) return v;
  FAIL("no metric " << name);
  return r.corpus.front();
}

// Compares psy's per-pair ROUGE with rouge_score's on every pair of `path`, and its sacrebleu with
// sacrebleu's (`ref`: rouge_sacrebleu.py's object for this file); returns the number of values compared.
size_t compare_rouge_and_sacrebleu(const std::string& path, const std::string& lang, const json& ref) {
  const Pairs pairs = read_pairs(path);
  size_t compared = 0;
  double max_diff = 0;
  for (const auto& [variant, rows] : ref["rouge"].items()) {
    ScoringOptions o;
    o.protocol = Protocol::standard;
    o.lang = lang;
    o.metrics = kRougeMetrics;
    o.metrics.push_back("sacrebleu");
    o.rouge_stem = variant == "stem";
    if (variant == "char") o.zh_rouge_tokens = "char";
    const auto r = score(pairs, o);
    REQUIRE(rows.size() == pairs.hyps.size());
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t k = 0; k < kRougeMetrics.size(); ++k) {
        const double want = rows[i][k].get<double>(), got = r.per_example[k][i];
        max_diff = std::max(max_diff, std::fabs(want - got));
        if (std::fabs(want - got) > 1e-12) {
          INFO(variant << " pair " << i << " " << kRougeMetrics[k] << "\nhyp: " << pairs.hyps[i] << "\nref: " << pairs.refs[i]);
          CHECK(got == Approx(want).margin(1e-12));
        }
        ++compared;
      }
    if (variant == "nostem" || variant == "jieba") {  // the paper's English ROUGE is this one too
      o.protocol = Protocol::psy_insight;
      o.metrics = kRougeMetrics;
      const auto p = score(pairs, o);
      for (size_t k = 0; k < kRougeMetrics.size(); ++k) CHECK(p.per_example[k] == r.per_example[k]);
    }
  }
  std::cout << "rouge_score parity on " << path << " (" << lang << "): " << compared << " values, max |diff| "
            << max_diff << "\n";
  for (const auto& [key, want] : ref["sacrebleu"].items()) {
    // key: TOK/SMOOTH[/VALUE]
    const auto a = key.find('/'), b = key.find('/', a + 1);
    ScoringOptions o;
    o.lang = lang;
    o.metrics = {"sacrebleu"};
    o.sacrebleu_tokenize = key.substr(0, a);
    o.sacrebleu_smooth = psy::eval::parse_sacrebleu_smooth(key.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1));
    if (b != std::string::npos) o.sacrebleu_smooth_value = std::stod(key.substr(b + 1));
    const auto r = score(pairs, o);
    const auto& v = metric(r, "sacrebleu");
    INFO(key);
    REQUIRE(v.value);
    CHECK(*v.value == Approx(want["score"].get<double>()).epsilon(1e-12).margin(1e-12));
    CHECK_THAT(v.signature, Catch::Contains("|" + want["signature"].get<std::string>() + "|"));
  }
  return compared;
}

}  // namespace

TEST_CASE("ROUGE-1/2/L/Lsum equal rouge_score and corpus BLEU equals sacrebleu (fixture and golden pairs)") {
  if (psy::test::reference_python().empty()) return;
  std::vector<std::pair<std::string, std::string>> files = {
      {std::string(PSY_SOURCE_DIR) + "/tests/fixtures/eval/rouge_sacrebleu_pairs.jsonl", "en"},
      {std::string(PSY_SOURCE_DIR) + "/tests/fixtures/eval/rouge_sacrebleu_pairs.jsonl", "zh"}};
  for (const char* f : {"en.jsonl", "zh.jsonl", "edge.jsonl"}) {
    const std::string path = psy::test::shared_path(std::string("golden/metrics/") + f);
    if (path.empty()) break;
    files.emplace_back(path, std::string(f) == "zh.jsonl" ? "zh" : "en");
    if (std::string(f) == "edge.jsonl") files.emplace_back(path, "zh");
  }
  std::string args;
  for (const auto& [path, lang] : files) args += psy::test::shell_quote(path) + " " + lang + " ";
  auto py = psy::test::run_reference_python("tests/reference/rouge_sacrebleu.py", args);  // one Python start
  INFO(py.err);
  REQUIRE(py.exit_code == 0);
  const json ref = json::parse(py.out);
  REQUIRE(ref.size() == files.size());
  for (size_t i = 0; i < files.size(); ++i) CHECK(compare_rouge_and_sacrebleu(files[i].first, files[i].second, ref[i]) > 0);
}

TEST_CASE("psy-insight is the paper's recipe on every consecutive therapist-turn pair of both Psy-Insight files") {
  if (psy::test::reference_python().empty()) return;
  const std::vector<std::pair<std::string, std::string>> files = {{"en_data_version7.json", "en"},
                                                                  {"cn_data_version7.json", "zh"}};
  // Both Python runs at once (NLTK's METEOR is slow; they take one core each).
  psy::test::TempDir tmp;
  std::vector<std::future<psy::test::RunResult>> runs;
  for (const auto& [file, lang] : files) {
    const std::string data = psy::test::shared_path("data/psy-insight/" + file);
    if (data.empty()) return;
    const std::string args = psy::test::shell_quote(data) + " " + lang + " " + psy::test::shell_quote(tmp.file(lang + ".jsonl"));
    runs.push_back(std::async(std::launch::async, [args] {
      return psy::test::run_reference_python("tests/reference/paper_metrics.py", args);
    }));
  }
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string& file = files[f].first;
    const std::string& lang = files[f].second;
    const std::string pairs_path = tmp.file(lang + ".jsonl");
    const auto py = runs[f].get();
    INFO(py.err);
    REQUIRE(py.exit_code == 0);
    const json ref = json::parse(py.out);
    const Pairs pairs = read_pairs(pairs_path);
    REQUIRE(pairs.hyps.size() == ref["n_pairs"].get<size_t>());
    REQUIRE(pairs.hyps.size() > 1000);

    ScoringOptions o;
    o.protocol = Protocol::psy_insight;
    o.lang = lang;
    o.metrics = {"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rougeL", "distinct1", "distinct2", "distinct3", "ead"};
    const auto r = score(pairs, o);
    const auto& rows = ref["rows"];
    const char* per_pair[] = {"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rougeL"};
    for (size_t k = 0; k < 6; ++k) {
      const std::string key = per_pair[k];
      // psy's Chinese ROUGE-L is the jieba reconstruction; main.py's own value is "rougeL" (0 on CJK).
      const std::string py_key = lang == "zh" && key == "rougeL" ? "rougeL_jieba" : key;
      size_t differ = 0;
      double max_diff = 0;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].contains(py_key)) continue;
        const double d = std::fabs(rows[i][py_key].get<double>() - r.per_example[k][i]);
        max_diff = std::max(max_diff, d);
        if (d > 1e-9) ++differ;
      }
      std::cout << file << " " << key << ": " << rows.size() << " pairs, " << differ << " differ by > 1e-9 (max |diff| "
                << max_diff << ")\n";
      INFO(file << " " << key << " max diff " << max_diff);
      CHECK(differ == 0);
    }
    // What the paper's English ROUGE-L and our old jieba-token ROUGE-L disagree on (for the record).
    size_t rouge_changed = 0, rouge_zero = 0;
    for (const auto& row : rows) {
      rouge_changed += std::fabs(row["rougeL"].get<double>() - row["rougeL_jieba"].get<double>()) > 1e-12;
      rouge_zero += row["rougeL"].get<double>() == 0.0;
    }
    std::cout << file << ": raw-string ROUGE-L (main.py) differs from jieba-token ROUGE-L on " << rouge_changed << " of "
              << rows.size() << " pairs; main.py's ROUGE-L is 0 on " << rouge_zero << "\n";
    const json& d = lang == "zh" ? ref["distinct_jieba_joined"] : ref["distinct_raw"];
    const double n = static_cast<double>(rows.size());
    for (int k = 1; k <= 3; ++k) {
      const auto& v = metric(r, "distinct" + std::to_string(k));
      REQUIRE(v.value);
      CHECK(*v.value == Approx(d["Distinct-" + std::to_string(k)].get<double>() / n).epsilon(1e-12));
    }
    REQUIRE(metric(r, "ead").value);
    CHECK(*metric(r, "ead").value == Approx(d["Expectation-Adjusted-Distinct"].get<double>()).epsilon(1e-12));
    std::cout << file << ": Distinct-2 / n  psy " << *metric(r, "distinct2").value << "  raw hyps (main.py) "
              << ref["distinct_raw"]["Distinct-2"].get<double>() / n << "  jieba-joined "
              << ref["distinct_jieba_joined"]["Distinct-2"].get<double>() / n << "\n";
    if (lang == "zh") {
      CHECK_THAT(metric(r, "rougeL").signature, Catch::Contains("reconstruction"));
      CHECK_THAT(metric(r, "distinct2").signature, Catch::Contains("reconstruction"));
    } else {
      CHECK_THAT(metric(r, "rougeL").signature, Catch::Contains("tok:rouge_default(raw)"));
      CHECK_THAT(metric(r, "distinct2").signature, Catch::Contains("tok:13a(raw)"));
    }
  }
}
