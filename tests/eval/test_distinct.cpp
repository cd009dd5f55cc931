#include <catch2/catch.hpp>

#include "eval/distinct.h"
#include "eval/text_tokenizers.h"
#include "tests/eval/golden_metrics.h"

using namespace psy::eval;
using psy::test::strings;

namespace {
constexpr double kTol = 1e-9;

void check_lsy(const std::optional<Lsy641Distinct>& got, const nlohmann::json& expect) {
  REQUIRE(got.has_value());
  CHECK(got->ead == Approx(expect["Expectation-Adjusted-Distinct"].get<double>()).margin(kTol).epsilon(0));
  CHECK(got->distinct1 == Approx(expect["Distinct-1"].get<double>()).margin(kTol).epsilon(0));
  CHECK(got->distinct2 == Approx(expect["Distinct-2"].get<double>()).margin(kTol).epsilon(0));
  CHECK(got->distinct3 == Approx(expect["Distinct-3"].get<double>()).margin(kTol).epsilon(0));
}

std::string join_space(const std::vector<std::string>& toks) {
  std::string out;
  for (size_t i = 0; i < toks.size(); ++i) out += (i ? " " : "") + toks[i];
  return out;
}
}  // namespace

TEST_CASE("plain Distinct-1/2 and EAD equal the golden corpus values", "[eval][distinct]") {
  const auto corpus = psy::test::golden_corpus();
  if (corpus.is_null()) return;
  for (const auto& file : psy::test::golden_files()) {
    const auto& expect = corpus[file.substr(0, file.find('.'))];
    for (const std::string tok : {"ws", "jieba_ws"}) {
      DistinctCounter counter(2, false);
      for (const auto& rec : psy::test::golden_records(file)) counter.add(strings(rec["tokens"]["hyp_" + tok]));
      for (int n = 1; n <= 2; ++n) {
        const std::string sfx = std::to_string(n) + "_" + tok;
        INFO(file << " " << sfx);
        CHECK(counter.unique(n) == expect["distinct"]["unique" + sfx].get<size_t>());
        CHECK(counter.total(n) == expect["distinct"]["total" + sfx].get<size_t>());
        const auto& d = expect["distinct"]["distinct" + sfx];
        if (d.is_object()) {
          CHECK_FALSE(counter.distinct(n).has_value());  // {"error": "ZeroDivisionError ..."}
        } else {
          REQUIRE(counter.distinct(n).has_value());
          CHECK(*counter.distinct(n) == Approx(d.get<double>()).margin(kTol).epsilon(0));
        }
      }
      const auto ead = expectation_adjusted_distinct(counter.unique(1), counter.total(1), 32000);
      REQUIRE(ead.has_value());
      CHECK(*ead == Approx(expect["ead"]["ead_" + tok].get<double>()).margin(kTol).epsilon(0));
    }
  }
}

TEST_CASE("lsy641/distinct module values (13a, jieba joined, whitespace tokens)", "[eval][distinct]") {
  const auto corpus = psy::test::golden_corpus();
  if (corpus.is_null()) return;
  const auto& seg = psy::test::shared_jieba();
  for (const auto& file : psy::test::golden_files()) {
    const auto& expect = corpus[file.substr(0, file.find('.'))]["lsy641_distinct"];
    DistinctCounter raw(3, true), joined(3, true), ws(3, true);
    for (const auto& rec : psy::test::golden_records(file)) {
      const std::string hyp = rec["hyp"];
      raw.add(tokenize_13a(hyp));
      joined.add(tokenize_13a(join_space(seg.cut(hyp))));
      ws.add(split_whitespace(hyp));
    }
    INFO(file);
    check_lsy(lsy641_distinct(raw, 32000), expect["raw_13a"]);
    check_lsy(lsy641_distinct(joined, 32000), expect["jieba_joined_13a"]);
    check_lsy(lsy641_distinct(ws, 32000), expect["ws_tokens"]);
  }
}

TEST_CASE("the lsy641/distinct module card's published example is reproduced", "[eval][distinct]") {
  const auto corpus = psy::test::golden_corpus();
  if (corpus.is_null()) return;
  for (const auto& ex : corpus["published_examples"]) {
    DistinctCounter ws(3, true), t13a(3, true);
    for (const auto& p : ex["predictions"]) {
      ws.add(split_whitespace(p.get<std::string>()));
      t13a.add(tokenize_13a(p.get<std::string>()));
    }
    const long v = ex["vocab_size"].get<long>();
    check_lsy(lsy641_distinct(ws, v), ex["published_whitespace_tokens"]);
    check_lsy(lsy641_distinct(t13a, v), ex["computed_13a_tokens"]);
  }
}

TEST_CASE("Distinct without n-grams is undefined, not a crash", "[eval][distinct]") {
  DistinctCounter c(3, true);
  c.add({});
  CHECK_FALSE(lsy641_distinct(c, 32000).has_value());
  DistinctCounter plain(2, false);
  plain.add({"one"});
  CHECK(plain.total(2) == 0);
  CHECK_FALSE(plain.distinct(2).has_value());
  CHECK(*plain.distinct(1) == 1.0);
  // Padding: a one-token hypothesis has one bigram ("<s>", w).
  DistinctCounter padded(3, true);
  padded.add({"w"});
  CHECK(padded.total(2) == 1);
  CHECK(padded.total(3) == 1);
}
