#include <catch2/catch.hpp>

#include <cmath>

#include "eval/bootstrap.h"
#include "eval/scoring.h"
#include "libpsy/core/error.h"
#include "tests/eval/golden_metrics.h"

using namespace psy::eval;

namespace {
constexpr double kTol = 1e-9;

const MetricValue& find(const ScoringResult& r, const std::string& name) {
  for (const auto& v : r.corpus)
    if (v.name == name) return v;
  FAIL("metric " << name << " missing");
  return r.corpus.front();
}

ScoringResult score_file(const std::string& file, Protocol p, const std::string& lang,
                         const std::vector<std::string>& metrics) {
  ScoringOptions o;
  o.protocol = p;
  o.lang = lang;
  o.metrics = metrics;
  o.bootstrap_resamples = 200;
  Scorer scorer(o, load_scoring_resources(o));
  for (const auto& rec : psy::test::golden_records(file)) scorer.add(rec["hyp"], rec["ref"]);
  return scorer.finish();
}

void check_value(const ScoringResult& r, const std::string& name, double expect) {
  INFO(name);
  const auto& v = find(r, name);
  REQUIRE(v.value.has_value());
  CHECK(*v.value == Approx(expect).margin(kTol).epsilon(0));
}

const std::vector<std::string> kAll = {"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rougeL", "rougeL_p", "rougeL_r",
                                       "corpus_bleu4", "distinct1", "distinct2", "distinct3", "ead"};
}  // namespace

TEST_CASE("the psy-insight protocol reproduces the paper's auto-eval on the golden pairs", "[eval][scoring]") {
  const auto corpus = psy::test::golden_corpus();
  if (corpus.is_null()) return;
  for (const std::string name : {"en", "zh", "edge"}) {
    INFO(name);
    // English (and the mixed edge cases) as main.py: ROUGE on the raw strings with rouge_score's
    // default tokenizer, Distinct on the raw hypotheses. Chinese: our jieba reconstruction.
    const bool zh = name == "zh";
    const auto r = score_file(name + ".jsonl", Protocol::psy_insight, zh ? "zh" : "en", kAll);
    const auto& c = corpus[name];
    const double n = c["n_pairs"].get<double>();
    for (int k = 1; k <= 4; ++k)
      check_value(r, "bleu" + std::to_string(k), c["mean"]["bleu" + std::to_string(k) + "_jieba_ws"].get<double>());
    check_value(r, "meteor", c["mean"]["meteor_jieba_paper_swapped"].get<double>());
    const std::string rouge = zh ? "rougeL_jieba_ws_" : "rougeL_nostem_";
    check_value(r, "rougeL", c["mean"][rouge + "fmeasure"].get<double>());
    check_value(r, "rougeL_p", c["mean"][rouge + "precision"].get<double>());
    check_value(r, "rougeL_r", c["mean"][rouge + "recall"].get<double>());
    check_value(r, "corpus_bleu4", c["corpus_bleu"]["method1"]["bleu4_jieba_ws"].get<double>());
    const auto& lsy = c["lsy641_distinct"][zh ? "jieba_joined_13a" : "raw_13a"];
    check_value(r, "distinct1", lsy["Distinct-1"].get<double>() / n);
    check_value(r, "distinct2", lsy["Distinct-2"].get<double>() / n);
    check_value(r, "distinct3", lsy["Distinct-3"].get<double>() / n);
    check_value(r, "ead", lsy["Expectation-Adjusted-Distinct"].get<double>());
    CHECK(r.n_pairs == static_cast<size_t>(n));
    CHECK(find(r, "bleu1").signature.find("bleu1|tok:jieba_ws|smooth:method1") == 0);
    CHECK(find(r, "bleu1").signature.find("|jieba:0.42.1-dict:897a1f17|psy:") != std::string::npos);
    CHECK(find(r, "meteor").signature.find("args:swapped") != std::string::npos);
    const std::string rouge_sig = find(r, "rougeL").signature, distinct_sig = find(r, "distinct2").signature;
    CHECK((rouge_sig.find("reconstruction") != std::string::npos) == zh);
    CHECK((distinct_sig.find("reconstruction") != std::string::npos) == zh);
    CHECK((distinct_sig.find(zh ? "tok:13a(jieba_joined)" : "tok:13a(raw)") != std::string::npos));
  }
}

TEST_CASE("the standard protocol: whitespace tokens for English, jieba for Chinese", "[eval][scoring]") {
  const auto corpus = psy::test::golden_corpus();
  if (corpus.is_null()) return;
  {
    const auto r = score_file("en.jsonl", Protocol::standard, "en", kAll);
    const auto& c = corpus["en"];
    for (int k = 1; k <= 4; ++k)
      check_value(r, "bleu" + std::to_string(k), c["mean"]["bleu" + std::to_string(k) + "_ws"].get<double>());
    check_value(r, "meteor", c["mean"]["meteor_ws"].get<double>());
    check_value(r, "rougeL", c["mean"]["rougeL_nostem_fmeasure"].get<double>());
    check_value(r, "corpus_bleu4", c["corpus_bleu"]["method1"]["bleu4_ws"].get<double>());
    check_value(r, "distinct1", c["distinct"]["distinct1_ws"].get<double>());
    check_value(r, "distinct2", c["distinct"]["distinct2_ws"].get<double>());
    check_value(r, "ead", c["ead"]["ead_ws"].get<double>());
    CHECK(find(r, "distinct2").counts.at("unique") == c["distinct"]["unique2_ws"].get<long long>());
    CHECK(find(r, "meteor").signature.find("args:ref-hyp") != std::string::npos);
    // Bootstrap interval around the mean.
    const auto& b = find(r, "bleu1");
    REQUIRE(b.ci95.has_value());
    CHECK(b.ci95->low < *b.value);
    CHECK(b.ci95->high > *b.value);
  }
  {
    const auto r = score_file("zh.jsonl", Protocol::standard, "zh", kAll);
    const auto& c = corpus["zh"];
    for (int k = 1; k <= 4; ++k)
      check_value(r, "bleu" + std::to_string(k), c["mean"]["bleu" + std::to_string(k) + "_jieba_ws"].get<double>());
    check_value(r, "meteor", c["mean"]["meteor_jieba_ws"].get<double>());
    check_value(r, "rougeL", c["mean"]["rougeL_jieba_ws_fmeasure"].get<double>());
    check_value(r, "distinct2", c["distinct"]["distinct2_jieba_ws"].get<double>());
    check_value(r, "ead", c["ead"]["ead_jieba_ws"].get<double>());
  }
}

TEST_CASE("scoring keeps per-example values and handles empty input", "[eval][scoring]") {
  ScoringOptions o;
  o.metrics = {"bleu1", "rougeL", "distinct2", "bertscore_f"};
  o.bootstrap_resamples = 100;
  Scorer scorer(o, load_scoring_resources(o));
  scorer.add("the cat sat", "the cat sat on the mat");
  scorer.add("", "something");
  scorer.add("one", "");
  const auto r = scorer.finish();
  CHECK(r.n_pairs == 3);
  CHECK(r.empty_hyp == 1);
  CHECK(r.empty_ref == 1);
  REQUIRE(r.per_example_names.size() == 3);  // bleu1, rougeL, bertscore_f
  CHECK(r.per_example[0][1] == 0.0);
  CHECK(r.per_example[1][2] == 0.0);
  CHECK(find(r, "distinct2").value.has_value());
  CHECK_FALSE(find(r, "bertscore_f").value.has_value());  // hook not installed
  CHECK(find(r, "bertscore_f").note.find("BERTScore") != std::string::npos);
}

TEST_CASE("an external metric hook fills its columns in batches", "[eval][scoring]") {
  ScoringOptions o;
  o.metrics = {"bertscore_p", "bertscore_f"};
  o.bootstrap_resamples = 0;
  Scorer scorer(o, load_scoring_resources(o));
  ExternalPairMetric ext;
  ext.names = {"bertscore_p", "bertscore_r", "bertscore_f"};
  ext.batch_size = 2;
  ext.score_batch = [](const std::vector<std::string>& h, const std::vector<std::string>&) {
    std::vector<std::vector<double>> rows;
    for (const auto& s : h) rows.push_back({double(s.size()), 0.0, 1.0});
    return rows;
  };
  scorer.set_external(ext);
  for (const char* h : {"a", "bb", "ccc"}) scorer.add(h, "x");
  const auto r = scorer.finish();
  CHECK(*find(r, "bertscore_p").value == Approx(2.0));
  CHECK(*find(r, "bertscore_f").value == 1.0);
}

TEST_CASE("metric lists and protocols are validated", "[eval][scoring]") {
  CHECK(parse_metric_list("bleu1, bleu3,meteor,bleu1") == std::vector<std::string>{"bleu1", "bleu3", "meteor"});
  CHECK_THROWS_AS(parse_metric_list("bleu5"), psy::Error);
  CHECK_THROWS_AS(parse_metric_list(""), psy::Error);
  CHECK_THROWS_AS(parse_protocol("paper"), psy::Error);
}

TEST_CASE("bootstrap: seeded, reproducible, sensible intervals and p-values", "[eval][bootstrap]") {
  std::vector<double> a, b;
  for (int i = 0; i < 200; ++i) {
    a.push_back(0.5 + 0.3 * std::sin(i * 1.7));
    b.push_back(a.back() - 0.05 + 0.01 * std::cos(i * 0.3));
  }
  const auto ci1 = bootstrap_mean_ci({&a}, 1000, 7);
  const auto ci2 = bootstrap_mean_ci({&a}, 1000, 7);
  CHECK(ci1[0].low == ci2[0].low);
  CHECK(ci1[0].high == ci2[0].high);
  CHECK(ci1[0].low < mean_of(a));
  CHECK(ci1[0].high > mean_of(a));
  const auto t = paired_bootstrap(a, b, 1000, 7);
  CHECK(t.delta > 0);
  CHECK(t.p_value < 0.01);
  CHECK(t.wins_a > 990);
  const auto same = paired_bootstrap(a, a, 100, 7);
  CHECK(same.p_value == 1.0);
  CHECK(same.ties == 100);
  std::vector<double> one = {0.3};
  CHECK(bootstrap_mean_ci({&one}, 10, 1)[0].low == 0.3);
  CHECK_THROWS_AS(bootstrap_mean_ci({&one}, 0, 1), psy::Error);
}
