#include <catch2/catch.hpp>

#include "eval/rouge.h"
#include "eval/text_tokenizers.h"
#include "tests/eval/golden_metrics.h"

using namespace psy::eval;
using psy::test::strings;

TEST_CASE("ROUGE-L P/R/F equals rouge_score for default, stemmed, jieba and char tokens", "[eval][rouge]") {
  const auto corpus = psy::test::golden_corpus();
  for (const auto& file : psy::test::golden_files()) {
    std::map<std::string, double> sums;
    size_t n_rec = 0;
    for (const auto& rec : psy::test::golden_records(file)) {
      ++n_rec;
      const std::string hyp = rec["hyp"], ref = rec["ref"];
      const std::vector<std::pair<std::string, RougeScore>> scores = {
          {"nostem", rouge_l(rouge_tokenize(ref), rouge_tokenize(hyp))},
          {"stem", rouge_l(rouge_tokenize_stemmed(ref), rouge_tokenize_stemmed(hyp))},
          {"jieba_ws", rouge_l(strings(rec["tokens"]["ref_jieba_ws"]), strings(rec["tokens"]["hyp_jieba_ws"]))},
          {"char", rouge_l(split_chars(ref), split_chars(hyp))},
      };
      for (const auto& [name, s] : scores) {
        INFO(file << " " << rec["id"].get<std::string>() << " " << name);
        const auto& g = rec["rougeL"];
        CHECK(s.precision == Approx(g[name + "_precision"].get<double>()).margin(1e-9).epsilon(0));
        CHECK(s.recall == Approx(g[name + "_recall"].get<double>()).margin(1e-9).epsilon(0));
        CHECK(s.fmeasure == Approx(g[name + "_fmeasure"].get<double>()).margin(1e-9).epsilon(0));
        sums["rougeL_" + name + "_precision"] += s.precision;
        sums["rougeL_" + name + "_recall"] += s.recall;
        sums["rougeL_" + name + "_fmeasure"] += s.fmeasure;
      }
    }
    if (n_rec == 0) return;
    const auto& mean = corpus[file.substr(0, file.find('.'))]["mean"];
    for (const auto& [key, sum] : sums) {
      INFO(file << " mean " << key);
      CHECK(sum / static_cast<double>(n_rec) == Approx(mean[key].get<double>()).margin(1e-9).epsilon(0));
    }
  }
}

TEST_CASE("ROUGE-L edge cases: empty sides are 0, LCS is order-aware", "[eval][rouge]") {
  using T = std::vector<std::string>;
  const auto e = rouge_l(T{}, T{"a"});
  CHECK(e.precision == 0.0);
  CHECK(e.fmeasure == 0.0);
  CHECK(lcs_length(T{"a", "b", "c", "d"}, T{"b", "d", "a"}) == 2);
  const auto s = rouge_l(T{"the", "cat", "sat"}, T{"the", "cat"});
  CHECK(s.precision == 1.0);
  CHECK(s.recall == Approx(2.0 / 3));
}
