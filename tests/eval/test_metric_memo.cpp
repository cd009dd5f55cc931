// The speed-ups of the lexical metrics must not change a single value: the token Vocabulary, the
// id-based BLEU/ROUGE-L, the view tokenisers, METEOR's memo (MeteorScorer) and Scorer::add_batch
// on several threads all give exactly what the plain string versions give.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

#include "eval/bleu.h"
#include "eval/distinct.h"
#include "eval/meteor.h"
#include "eval/rouge.h"
#include "eval/scoring.h"
#include "eval/text_tokenizers.h"
#include "eval/vocabulary.h"
#include "libpsy/core/rng.h"
#include "tests/eval/golden_metrics.h"
#include "tests/eval/installed_wordnet.h"

using namespace psy::eval;

using psy::test::installed_wordnet;

namespace {

// Texts that exercise the tokenisers' corner cases: Unicode spaces, the two non-ASCII code points
// that lower-case to ASCII letters (U+212A KELVIN SIGN, U+0130), invalid UTF-8, punctuation.
const std::vector<std::string> kTexts = {
    "",
    "   \t\n ",
    "Hello, World! It's 3 o'clock.",
    "a\u3000b\u00a0c\u0085d\u2028e",
    "\u212Aelvin \u0130stanbul \u0130i",
    "bad \xff\xfe bytes\xc3 end",
    "\u00c9COLE caf\u00e9 na\u00efve",
    "x",
    "don't-stop_me now...   NOW",
};


std::vector<uint32_t> ids_of(Vocabulary& vocab, const std::vector<std::string>& tokens) {
  std::vector<uint32_t> out;
  for (const auto& t : tokens) out.push_back(vocab.id(t));
  return out;
}

// Random token lists over a small alphabet, so that n-grams repeat.
std::vector<std::string> random_tokens(psy::Rng& rng, size_t max_len) {
  static const char* words[] = {"a", "b", "c", "the", "cat", "sat", "on", "mat"};
  std::vector<std::string> out(static_cast<size_t>(rng.uniform_below(max_len + 1)));
  for (auto& w : out) w = words[rng.uniform_below(8)];
  return out;
}

}  // namespace

TEST_CASE("Vocabulary: equal strings get equal dense ids, also across growth and clear()", "[eval][memo]") {
  Vocabulary v;
  const std::string text = "catalogue";
  const uint32_t cat = v.id(std::string_view(text).substr(0, 3));  // a view that is not NUL-terminated
  CHECK(cat == 0);
  CHECK(v.id("cat") == cat);
  CHECK(v.id("dog") == 1);
  CHECK(v.id("") == 2);
  for (int i = 0; i < 5000; ++i) CHECK(v.id("w" + std::to_string(i)) == static_cast<uint32_t>(3 + i));
  CHECK(v.size() == 5003);
  CHECK(v.id("cat") == cat);
  CHECK(v.text(cat) == "cat");
  CHECK(v.text(4002) == "w3999");
  const auto gen = v.generation();
  v.clear();
  CHECK(v.size() == 0);
  CHECK(v.generation() == gen + 1);
  CHECK(v.id("dog") == 0);
}

TEST_CASE("BLEU and ROUGE-L on ids equal the string versions", "[eval][memo]") {
  psy::Rng rng(7);
  Vocabulary small, large;
  for (int i = 0; i < 70000; ++i) large.id("filler" + std::to_string(i));  // ids above 0xFFFF
  for (int trial = 0; trial < 400; ++trial) {
    const auto hyp = random_tokens(rng, 30);
    const auto ref = random_tokens(rng, 30);
    INFO("trial " << trial);
    const BleuCounts expect = bleu_counts({ref}, hyp, 4);
    for (Vocabulary* vocab : {&small, &large}) {
      const BleuCounts got = bleu_counts_ids(ids_of(*vocab, ref), ids_of(*vocab, hyp), 4);
      CHECK(got.numerator == expect.numerator);
      CHECK(got.denominator == expect.denominator);
      CHECK(got.hyp_len == expect.hyp_len);
      CHECK(got.ref_len == expect.ref_len);
      const RougeScore a = rouge_l(ref, hyp);
      const RougeScore b = rouge_l_ids(ids_of(*vocab, ref), ids_of(*vocab, hyp));
      CHECK(a.precision == b.precision);
      CHECK(a.recall == b.recall);
      CHECK(a.fmeasure == b.fmeasure);
    }
  }
}

TEST_CASE("the view tokenisers give the string tokenisers' tokens", "[eval][memo]") {
  std::vector<std::string_view> views;
  std::string storage;
  for (const std::string& text : kTexts) {
    INFO("text: " << text);
    split_whitespace_views(text, views);
    const Tokens ws = split_whitespace(text);
    CHECK(std::vector<std::string>(views.begin(), views.end()) == ws);
    CHECK(is_blank(text) == ws.empty());
    rouge_tokenize_views(text, storage, views);
    CHECK(std::vector<std::string>(views.begin(), views.end()) == rouge_tokenize(text));
  }
}

TEST_CASE("MeteorScorer reused over many pairs (memo bounded or not) equals fresh METEOR scores", "[eval][memo][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const auto records = psy::test::golden_records("en.jsonl");
  if (records.empty()) return;
  MeteorScorer reused(*wn);
  MeteorScorer tiny(*wn, {}, 8);  // cleared before almost every pair
  Vocabulary shared;
  MeteorScorer sharing(*wn, shared);
  size_t compared = 0;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass runs on a warm memo
    for (const auto& rec : records) {
      const auto hyp = psy::test::strings(rec["tokens"]["hyp_ws"]);
      const auto ref = psy::test::strings(rec["tokens"]["ref_ws"]);
      MeteorDetail d0, d1, d2, d3;
      const double expect = meteor_score({ref}, hyp, *wn, {}, &d0);
      INFO(rec["id"].get<std::string>());
      CHECK(reused.score({ref}, hyp, &d1) == expect);
      CHECK(tiny.single(ref, hyp, &d2) == expect);
      if (shared.size() > 300) shared.clear();  // the owner bounds a shared vocabulary
      CHECK(sharing.single_ids(ids_of(shared, ref), ids_of(shared, hyp), &d3) == expect);
      for (const MeteorDetail* d : {&d1, &d2, &d3}) {
        CHECK(d->exact == d0.exact);
        CHECK(d->stem == d0.stem);
        CHECK(d->wordnet == d0.wordnet);
        CHECK(d->chunks == d0.chunks);
      }
      ++compared;
    }
  }
  CHECK(compared == 2 * records.size());
}

TEST_CASE("Scorer::add_batch on several threads equals add() pair by pair", "[eval][memo][scoring]") {
  if (installed_wordnet() == nullptr) return;
  const auto records = psy::test::golden_records("en.jsonl");
  if (records.empty()) return;
  ScoringOptions o;
  o.protocol = Protocol::standard;
  o.lang = "en";
  o.metrics = {"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rougeL", "rougeL_p", "rougeL_r", "corpus_bleu4",
               "distinct1", "distinct2", "ead"};
  o.bootstrap_resamples = 0;
  std::vector<std::string> hyps, refs;
  for (int copy = 0; copy < 3; ++copy)  // repeated pairs: warm memo on the later copies
    for (const auto& rec : records) {
      hyps.push_back(rec["hyp"].get<std::string>());
      refs.push_back(rec["ref"].get<std::string>());
    }
  const auto res = load_scoring_resources(o);
  Scorer one(o, res);
  for (size_t i = 0; i < hyps.size(); ++i) one.add(hyps[i], refs[i]);
  const ScoringResult a = one.finish();
  for (int threads : {2, 3}) {
    INFO(threads << " threads");
    Scorer many(o, res);
    for (size_t b = 0; b < hyps.size(); b += 97) {
      const size_t e = std::min(hyps.size(), b + 97);
      many.add_batch(std::vector<std::string>(hyps.begin() + static_cast<long>(b), hyps.begin() + static_cast<long>(e)),
                     std::vector<std::string>(refs.begin() + static_cast<long>(b), refs.begin() + static_cast<long>(e)),
                     threads);
    }
    const ScoringResult b = many.finish();
    CHECK(b.per_example == a.per_example);
    REQUIRE(b.corpus.size() == a.corpus.size());
    for (size_t k = 0; k < a.corpus.size(); ++k) {
      INFO(a.corpus[k].name);
      CHECK(b.corpus[k].value == a.corpus[k].value);
    }
  }
}

TEST_CASE("DistinctCounter: counters merged equal one counter fed every hypothesis", "[eval][memo][distinct]") {
  psy::Rng rng(11);
  std::vector<std::vector<std::string>> hyps;
  for (int i = 0; i < 300; ++i) hyps.push_back(random_tokens(rng, 12));
  hyps.push_back({"<s>", "a"});  // a real "<s>" token equals the padding symbol, as in Python
  for (const bool pad : {false, true}) {
    INFO("left_pad " << pad);
    DistinctCounter all(3, pad), part1(3, pad), part2(3, pad), merged(3, pad);
    for (size_t i = 0; i < hyps.size(); ++i) {
      all.add(hyps[i]);
      (i % 3 == 0 ? part1 : part2).add(hyps[i]);
    }
    merged.merge(part2);
    merged.merge(part1);
    for (int n = 1; n <= 3; ++n) {
      CHECK(merged.unique(n) == all.unique(n));
      CHECK(merged.total(n) == all.total(n));
    }
  }
  DistinctCounter two(2, false), three(3, false);
  CHECK_THROWS(three.merge(two));
}
