#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>

#include "eval/bleu.h"
#include "eval/exact_sum.h"
#include "eval/text_tokenizers.h"
#include "tests/eval/golden_metrics.h"

using namespace psy::eval;
using psy::test::strings;

namespace {
constexpr double kTol = 1e-9;

std::vector<std::string> toks(const nlohmann::json& rec, const std::string& side, const std::string& tok) {
  return strings(rec["tokens"][side + "_" + tok]);
}
}  // namespace

TEST_CASE("sentence BLEU-1..4 (method1) equals NLTK on every golden pair", "[eval][bleu]") {
  for (const auto& file : psy::test::golden_files()) {
    std::map<std::string, double> sums;
    size_t n_rec = 0;
    for (const auto& rec : psy::test::golden_records(file)) {
      ++n_rec;
      for (const std::string tok : {"jieba_ws", "ws"}) {
        const auto hyp = toks(rec, "hyp", tok), ref = toks(rec, "ref", tok);
        for (int n = 1; n <= 4; ++n) {
          const std::string key = "bleu" + std::to_string(n) + "_" + tok;
          const double got = sentence_bleu({ref}, hyp, bleu_weights(n), BleuSmoothing::method1);
          INFO(file << " " << rec["id"].get<std::string>() << " " << key);
          CHECK(got == Approx(rec["bleu"][key].get<double>()).margin(kTol).epsilon(0));
          sums[key] += got;
        }
      }
    }
    if (n_rec == 0) return;
    const auto corpus = psy::test::golden_corpus()[file.substr(0, file.find('.'))];
    for (const auto& [key, sum] : sums) {
      INFO(file << " mean " << key);
      CHECK(sum / static_cast<double>(n_rec) == Approx(corpus["mean"][key].get<double>()).margin(kTol).epsilon(0));
    }
  }
}

TEST_CASE("corpus BLEU (method1 and no smoothing) equals NLTK's corpus_bleu", "[eval][bleu]") {
  const auto corpus = psy::test::golden_corpus();
  if (corpus.is_null()) return;
  for (const auto& file : psy::test::golden_files()) {
    const auto recs = psy::test::golden_records(file);
    const auto& expect = corpus[file.substr(0, file.find('.'))]["corpus_bleu"];
    for (const std::string tok : {"jieba_ws", "ws"}) {
      std::vector<std::vector<std::vector<std::string>>> refs;
      std::vector<std::vector<std::string>> hyps;
      for (const auto& rec : recs) {
        refs.push_back({toks(rec, "ref", tok)});
        hyps.push_back(toks(rec, "hyp", tok));
      }
      for (int n = 1; n <= 4; ++n) {
        const std::string key = "bleu" + std::to_string(n) + "_" + tok;
        INFO(file << " " << key);
        const double m1 = corpus_bleu(refs, hyps, bleu_weights(n), BleuSmoothing::method1);
        const double m0 = corpus_bleu(refs, hyps, bleu_weights(n), BleuSmoothing::none);
        CHECK(m1 == Approx(expect["method1"][key].get<double>()).margin(kTol).epsilon(0));
        CHECK(m0 == Approx(expect["no_smoothing"][key].get<double>()).margin(kTol).epsilon(0));
        // Tiny values like 7.5e-232 must not collapse to 0: compare relatively too.
        CHECK(m0 == Approx(expect["no_smoothing"][key].get<double>()).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("BLEU quirks: integer-0 cases, one-token pairs, brevity penalty", "[eval][bleu]") {
  using T = std::vector<std::string>;
  CHECK(sentence_bleu({T{"a", "b"}}, T{}, bleu_weights(4), BleuSmoothing::method1) == 0.0);
  CHECK(sentence_bleu({T{}}, T{"a"}, bleu_weights(4), BleuSmoothing::method1) == 0.0);
  CHECK(sentence_bleu({T{"x"}}, T{"y"}, bleu_weights(1), BleuSmoothing::method1) == 0.0);
  // One identical token: (1 * 0.1^3)^(1/4).
  CHECK(sentence_bleu({T{"ok"}}, T{"ok"}, bleu_weights(4), BleuSmoothing::method1) ==
        Approx(std::pow(0.001, 0.25)).margin(1e-15));
  // Short hypothesis: BP = exp(1 - 4/2); unigram precision 1.
  CHECK(sentence_bleu({T{"a", "b", "c", "d"}}, T{"a", "b"}, bleu_weights(1), BleuSmoothing::none) ==
        Approx(std::exp(-1.0)).margin(1e-15));
  // Closest reference length, ties to the shorter one.
  auto c = bleu_counts({T{"a", "b", "c", "d"}, T{"a", "b"}}, T{"a", "b", "c"}, 2);
  CHECK(c.ref_len == 2);
  // Unsmoothed zero precision: sys.float_info.min, so a tiny positive value.
  const double tiny = sentence_bleu({T{"a", "b"}}, T{"a", "c"}, bleu_weights(2), BleuSmoothing::none);
  CHECK(tiny > 0.0);
  CHECK(tiny == Approx(std::sqrt(0.5 * DBL_MIN)).epsilon(1e-12));
}

TEST_CASE("fsum is exactly rounded like Python's math.fsum", "[eval]") {
  CHECK(fsum({0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}) == 1.0);
  CHECK(fsum({1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50}) == 1e-100);
  CHECK(fsum({}) == 0.0);
}

TEST_CASE("every NLTK smoothing method 0-4 matches values computed with NLTK 3.8", "[eval][bleu]") {
  // Reference values: nltk.translate.bleu_score.sentence_bleu with SmoothingFunction().methodN.
  const auto split = [](const std::string& s) { return split_whitespace(s); };
  const auto ref = split("the cat is on the mat today"), hyp = split("the cat sat on a mat");
  const auto ref2 = split("a cat sat on the mat");
  const std::vector<std::pair<BleuSmoothing, std::pair<double, double>>> expect = {
      {BleuSmoothing::none, {7.629999090858336e-155, 0.5313292845913056}},
      {BleuSmoothing::method1, {0.08690744034581972, 0.5313292845913056}},
      {BleuSmoothing::method2, {0.2748254571080018, 0.6436595897370865}},
      {BleuSmoothing::method3, {0.16341219448835542, 0.5313292845913056}},
      {BleuSmoothing::method4, {0.09782262536517172, 0.5313292845913056}},
  };
  for (const auto& [s, v] : expect) {
    INFO(to_string(s));
    CHECK(sentence_bleu({ref}, hyp, bleu_weights(4), s) == Approx(v.first).epsilon(1e-12));
    CHECK(sentence_bleu({ref, ref2}, hyp, bleu_weights(3), s) == Approx(v.second).margin(1e-12).epsilon(0));
  }
}
