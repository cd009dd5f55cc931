#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sys/stat.h>
#include <thread>

#include "eval/meteor.h"
#include "tests/eval/golden_metrics.h"
#include "tests/eval/installed_wordnet.h"

using psy::eval::meteor_score;
using psy::eval::MeteorDetail;
using psy::eval::MeteorParams;
using psy::eval::single_meteor_score;
using psy::eval::WordNet;
using Tokens = std::vector<std::string>;

using psy::test::installed_wordnet;

namespace {


// The golden METEOR keys: which token lists go in as hypothesis and reference.
struct GoldenKey {
  const char* name;
  const char* hyp;
  const char* ref;
};
constexpr GoldenKey kGoldenKeys[] = {
    {"ws", "hyp_ws", "ref_ws"},
    {"jieba", "hyp_jieba", "ref_jieba"},
    {"jieba_ws", "hyp_jieba_ws", "ref_jieba_ws"},
    {"jieba_paper_swapped", "ref_jieba", "hyp_jieba"},  // the paper's code swapped the arguments
    {"ws_swapped", "ref_ws", "hyp_ws"},
};

size_t check_golden_file(const std::string& file, const WordNet& wn) {
  size_t compared = 0;
  for (const auto& rec : psy::test::golden_records(file)) {
    for (const GoldenKey& key : kGoldenKeys) {
      INFO(file << " " << rec["id"].get<std::string>() << " meteor_" << key.name);
      const Tokens hyp = psy::test::strings(rec["tokens"][key.hyp]);
      const Tokens ref = psy::test::strings(rec["tokens"][key.ref]);
      MeteorDetail d;
      const double score = meteor_score({ref}, hyp, wn, {}, &d);
      const auto& gd = rec["meteor"]["detail"][key.name];
      CHECK(d.hyp_len == gd["hyp_len"].get<size_t>());
      CHECK(d.ref_len == gd["ref_len"].get<size_t>());
      CHECK(d.exact == gd["exact"].get<size_t>());
      CHECK(d.stem == gd["stem"].get<size_t>());
      CHECK(d.wordnet == gd["wordnet"].get<size_t>());
      CHECK(d.chunks == gd["chunks"].get<size_t>());
      CHECK(score == Approx(rec["meteor"][std::string("meteor_") + key.name].get<double>()).margin(1e-9).epsilon(0));
      ++compared;
    }
  }
  return compared;
}

}  // namespace

TEST_CASE("METEOR equals NLTK 3.8 on the English golden pairs (5 variants, details exact)", "[eval][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const size_t n = check_golden_file("en.jsonl", *wn);
  if (!psy::test::shared_dir().empty()) CHECK(n == 200 * 5);
}

TEST_CASE("METEOR equals NLTK 3.8 on the Chinese golden pairs", "[eval][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const size_t n = check_golden_file("zh.jsonl", *wn);
  if (!psy::test::shared_dir().empty()) CHECK(n == 100 * 5);
}

TEST_CASE("METEOR equals NLTK 3.8 on the golden edge cases", "[eval][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const size_t n = check_golden_file("edge.jsonl", *wn);
  if (!psy::test::shared_dir().empty()) CHECK(n == 31 * 5);
}

TEST_CASE("METEOR: NLTK's documented example and multiple references", "[eval][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const Tokens hyp1 = {"It", "is", "a", "guide", "to", "action", "which", "ensures", "that", "the", "military",
                       "always", "obeys", "the", "commands", "of", "the", "party"};
  const Tokens ref1 = {"It", "is", "a", "guide", "to", "action", "that", "ensures", "that", "the", "military",
                       "will", "forever", "heed", "Party", "commands"};
  const Tokens ref2 = {"It", "is", "the", "guiding", "principle", "which", "guarantees", "the", "military",
                       "forces", "always", "being", "under", "the", "command", "of", "the", "Party"};
  const Tokens ref3 = {"It", "is", "the", "practical", "guide", "for", "the", "army", "always", "to",
                       "heed", "the", "directions", "of", "the", "party"};
  const double single = single_meteor_score(ref1, hyp1, *wn);
  CHECK(single == Approx(0.6944).margin(5e-5));
  MeteorDetail d;
  CHECK(meteor_score({ref1, ref2, ref3}, hyp1, *wn, {}, &d) == single);  // the max is ref1's score
  CHECK(d.ref_len == ref1.size());
  CHECK(meteor_score({{"this", "is", "a", "cat"}}, {"non", "matching", "hypothesis"}, *wn) == 0.0);
}

TEST_CASE("METEOR: stem and WordNet stages, single tokens, empty input", "[eval][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  MeteorDetail d;
  // One matched token: one chunk, fragmentation 1, penalty 0.5.
  CHECK(meteor_score({{"Mmm-hmm."}}, {"Mmm-hmm."}, *wn, {}, &d) == 0.5);
  CHECK(d.exact == 1);
  CHECK(d.chunks == 1);
  // Lower-casing before the exact stage.
  CHECK(meteor_score({{"HELLO"}}, {"hello"}, *wn, {}, &d) == 0.5);
  CHECK(d.exact == 1);
  // Stem stage: "running" and "runs" share the Porter stem "run".
  CHECK(meteor_score({{"runs"}}, {"running"}, *wn, {}, &d) == 0.5);
  CHECK(d.exact == 0);
  CHECK(d.stem == 1);
  // WordNet stage: "hound" is a lemma of a synset of "dog".
  CHECK(meteor_score({{"the", "hound", "barked"}}, {"the", "dog", "barked"}, *wn, {}, &d) ==
        Approx((1 - 0.5 * std::pow(1.0 / 3.0, 3.0)) * 1.0));
  CHECK(d.exact == 2);
  CHECK(d.wordnet == 1);
  CHECK(d.chunks == 1);
  // Nothing in common, or an empty side: 0.
  CHECK(meteor_score({{"apple"}}, {"zebra"}, *wn, {}, &d) == 0.0);
  CHECK(d.chunks == 0);
  CHECK(meteor_score({{}}, {"a"}, *wn) == 0.0);
  CHECK(meteor_score({{"a"}}, {}, *wn) == 0.0);
  CHECK(meteor_score({{}}, {}, *wn) == 0.0);
  CHECK(meteor_score({}, {"a"}, *wn, {}, &d) == 0.0);  // no reference at all
  CHECK(d.hyp_len == 1);
  CHECK(d.ref_len == 0);
}

TEST_CASE("METEOR: chunks, the greedy last-to-first scan, and custom parameters", "[eval][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  MeteorDetail d;
  // Two chunks: "a b" and "c" (reference order differs).
  const double s = meteor_score({{"c", "x", "a", "b"}}, {"a", "b", "c"}, *wn, {}, &d);
  CHECK(d.exact == 3);
  CHECK(d.chunks == 2);
  const double p = 1.0, r = 0.75;
  const double fmean = p * r / (0.9 * p + (1 - 0.9) * r);
  CHECK(s == (1 - 0.5 * std::pow(2.0 / 3.0, 3.0)) * fmean);
  // A repeated word pairs with the last unmatched occurrence: hyp "a a" vs ref "a b a"
  // matches hyp 1 -> ref 2 and hyp 0 -> ref 0, so two chunks.
  meteor_score({{"a", "b", "a"}}, {"a", "a"}, *wn, {}, &d);
  CHECK(d.exact == 2);
  CHECK(d.chunks == 2);
  // Parameters.
  MeteorParams params;
  params.alpha = 0.5;
  params.beta = 2.0;
  params.gamma = 0.0;
  CHECK(meteor_score({{"c", "x", "a", "b"}}, {"a", "b", "c"}, *wn, params) == Approx(1.0 * 0.75 / (0.5 + 0.5 * 0.75)));
}

TEST_CASE("METEOR: several threads may score with one WordNet", "[eval][meteor]") {
  const WordNet* wn = installed_wordnet();
  if (wn == nullptr) return;
  const auto records = psy::test::golden_records("en.jsonl");
  if (records.empty()) return;
  std::vector<double> expected;
  for (const auto& rec : records) expected.push_back(rec["meteor"]["meteor_ws"].get<double>());
  std::vector<double> got[2];
  const WordNet fresh = WordNet::load(wn->dir());  // empty cache: both threads fill it at once
  auto work = [&](int t) {
    for (const auto& rec : records)
      got[t].push_back(meteor_score({psy::test::strings(rec["tokens"]["ref_ws"])},
                                    psy::test::strings(rec["tokens"]["hyp_ws"]), fresh));
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  for (int t = 0; t < 2; ++t) {
    REQUIRE(got[t].size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) CHECK(got[t][i] == Approx(expected[i]).margin(1e-9).epsilon(0));
  }
}
