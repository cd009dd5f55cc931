// CLI tests of `psy score`: exit codes, outputs, defined behaviour on bad input.
#include <catch2/catch.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "eval/bleu.h"
#include "eval/text_tokenizers.h"
#include "tests/test_support.h"

using psy::test::run_psy;

namespace {
std::string fixture(const std::string& name) { return psy::test::source_dir() + "/tests/fixtures/eval/" + name; }
nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(psy::test::read_file(path)); }
}  // namespace

TEST_CASE("psy score --help documents input, protocols and problem input", "[eval][cli]") {
  const auto r = run_psy("score --help");
  CHECK(r.exit_code == 0);
  for (const char* s : {"--pred", "--ref", "--metrics", "--protocol", "--lang", "--per-example", "--out", "--compare",
                        "--seed", "--bootstrap", "duplicate id", "invalid UTF-8", "empty", "psy-insight", "standard"})
    CHECK(r.out.find(s) != std::string::npos);
}

TEST_CASE("psy score writes metrics.json with values, CIs and signatures", "[eval][cli]") {
  psy::test::TempDir tmp;
  const auto r = run_psy("score --pred " + fixture("pairs_en.jsonl") +
                         " --metrics bleu1,bleu4,rougeL,distinct2,ead --protocol standard --lang en --out " +
                         tmp.file("m.json") + " --per-example " + tmp.file("pe.jsonl") + " --bootstrap 200");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("bleu1") != std::string::npos);
  CHECK(r.err.find("1 empty prediction") != std::string::npos);
  const auto m = read_json(tmp.file("m.json"));
  CHECK(m["n_pairs"] == 5);
  CHECK(m["empty_hyp"] == 1);
  CHECK(m["protocol"] == "standard");
  // bleu1 is the mean of NLTK sentence BLEU-1 (method1) on whitespace tokens.
  double sum = 0;
  for (const auto& line : {std::make_pair("It sounds like work has been really stressful for you lately.",
                                          "It sounds like your job has been very stressful lately."),
                           std::make_pair("What would you like to talk about today?", "What would you like to focus on today?"),
                           std::make_pair("I hear that you feel alone.", "You feel lonely, and that is hard."),
                           std::make_pair("Can you tell me more about that?", "Tell me more about that."),
                           std::make_pair("", "How did that make you feel?")})
    sum += psy::eval::sentence_bleu({psy::eval::split_whitespace(line.second)}, psy::eval::split_whitespace(line.first),
                                    psy::eval::bleu_weights(1), psy::eval::BleuSmoothing::method1);
  CHECK(m["metrics"]["bleu1"]["value"].get<double>() == Approx(sum / 5).margin(1e-12));
  CHECK(m["metrics"]["bleu1"]["ci95"].size() == 2);
  CHECK(m["metrics"]["bleu1"]["signature"].get<std::string>().find("bleu1|tok:ws|smooth:method1") == 0);
  CHECK(m["metrics"]["distinct2"]["aggregate"] == "corpus");
  CHECK(m["metrics"]["distinct2"].contains("unique"));
  const auto lines = psy::test::read_file(tmp.file("pe.jsonl"));
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 5);
  CHECK(lines.find("\"id\":\"p5\",\"bleu1\":0.0") != std::string::npos);
}

TEST_CASE("psy score pairs --pred and --ref by id, in any order", "[eval][cli]") {
  psy::test::TempDir tmp;
  const auto a = run_psy("score --pred " + fixture("preds_en.jsonl") + " --ref " + fixture("refs_en.jsonl") +
                         " --metrics bleu2,rougeL --bootstrap 0 --out " + tmp.file("a.json"));
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(a.err.find("1 reference") != std::string::npos);  // p9 has no prediction
  const auto ma = read_json(tmp.file("a.json"));
  CHECK(ma["n_pairs"] == 4);
  CHECK(ma["unpaired_references"] == 1);
  CHECK_FALSE(ma["metrics"]["bleu2"].contains("ci95"));
}

TEST_CASE("psy score on Chinese with both protocols", "[eval][cli]") {
  psy::test::TempDir tmp;
  for (const char* proto : {"psy-insight", "standard"}) {
    const auto r = run_psy("score --pred " + fixture("pairs_zh.jsonl") + " --lang zh --protocol " + proto +
                           " --metrics bleu1,rougeL,distinct2 --out " + tmp.file("z.json"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto m = read_json(tmp.file("z.json"));
    CHECK(m["metrics"]["bleu1"]["value"].get<double>() > 0.2);
    CHECK(m["metrics"]["rougeL"]["signature"].get<std::string>().find("tok:jieba_ws") != std::string::npos);
  }
}

TEST_CASE("psy score: bad input gives exit code 2 and names the line", "[eval][cli]") {
  const auto bad = run_psy("score --pred " + fixture("bad_utf8.jsonl") + " --metrics bleu1");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("bad_utf8.jsonl:2") != std::string::npos);
  CHECK(bad.err.find("invalid UTF-8") != std::string::npos);
  const auto dup = run_psy("score --pred " + fixture("dup_ids.jsonl") + " --metrics bleu1");
  CHECK(dup.exit_code == 2);
  CHECK(dup.err.find("duplicate id") != std::string::npos);
  CHECK(dup.err.find("dup_ids.jsonl:3") != std::string::npos);
  const auto unknown = run_psy("score --pred " + fixture("preds_unknown_id.jsonl") + " --ref " + fixture("refs_en.jsonl") +
                               " --metrics bleu1");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("zz") != std::string::npos);
  const auto missing = run_psy("score --pred " + fixture("missing_field.jsonl") + " --metrics bleu1");
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("missing reference text") != std::string::npos);
  CHECK(run_psy("score --pred " + fixture("pairs_en.jsonl") + " --metrics bleu9").exit_code == 2);
  CHECK(run_psy("score --pred " + fixture("pairs_en.jsonl") + " --protocol paper").exit_code == 2);
  CHECK(run_psy("score --metrics bleu1").exit_code == 2);
  CHECK(run_psy("score --pred /nonexistent.jsonl").exit_code == 2);
  CHECK(run_psy("score --pred " + fixture("pairs_en.jsonl") + " --bogus 1").exit_code == 2);
  const auto nojieba = run_psy("score --pred " + fixture("pairs_zh.jsonl") + " --lang zh --jieba-dir /nonexistent --metrics bleu1");
  CHECK(nojieba.exit_code == 1);
  CHECK(nojieba.err.find("python3-jieba") != std::string::npos);
}

TEST_CASE("psy score --compare runs a paired bootstrap test", "[eval][cli]") {
  psy::test::TempDir tmp;
  const auto r = run_psy("score --compare " + fixture("system_a.jsonl") + " " + fixture("system_b.jsonl") +
                         " --metrics bleu1,rougeL,distinct2 --seed 3 --out " + tmp.file("c.json"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("A is better") != std::string::npos);
  const auto m = read_json(tmp.file("c.json"));
  CHECK(m["paired_bootstrap"]["bleu1"]["better"] == "A");
  CHECK(m["paired_bootstrap"]["bleu1"]["p_value"].get<double>() < 0.05);
  CHECK(m["a"]["metrics"]["bleu1"]["value"].get<double>() == 1.0);
  // The same call with the same seed gives the same numbers.
  const auto again = run_psy("score --compare " + fixture("system_a.jsonl") + " " + fixture("system_b.jsonl") +
                             " --metrics bleu1,rougeL,distinct2 --seed 3");
  CHECK(again.out == r.out);
  CHECK(run_psy("score --compare " + fixture("system_a.jsonl") + " " + fixture("pairs_en.jsonl")).exit_code == 2);
}

TEST_CASE("psy score gives the same numbers on 1 and several threads", "[eval][cli]") {
  psy::test::TempDir tmp;
  const std::string args = "score --pred " + fixture("pairs_en.jsonl") +
                           " --metrics bleu1,bleu4,meteor,rougeL,distinct2,corpus_bleu4 --per-example ";
  const auto one = run_psy(args + tmp.file("a.jsonl") + " --threads 1");
  const auto four = run_psy(args + tmp.file("b.jsonl") + " --threads 4");
  REQUIRE(one.exit_code == 0);
  REQUIRE(four.exit_code == 0);
  CHECK(one.out == four.out);
  CHECK(psy::test::read_file(tmp.file("a.jsonl")) == psy::test::read_file(tmp.file("b.jsonl")));
  CHECK(run_psy(args + tmp.file("c.jsonl") + " --threads 0").exit_code == 2);
}

TEST_CASE("psy score: ROUGE-1/2/Lsum and sacreBLEU with their signatures; their options refuse bad values in one line",
          "[eval][cli]") {
  psy::test::TempDir tmp;
  const auto r = run_psy("score --pred " + fixture("rouge_sacrebleu_pairs.jsonl") +
                         " --metrics rouge1,rouge2_p,rougeLsum,sacrebleu --protocol standard --lang en --bootstrap 0 --out " +
                         tmp.file("m.json") + " --sacrebleu-smooth floor");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto m = read_json(tmp.file("m.json"))["metrics"];
  for (const char* k : {"rouge1", "rouge2_p", "rougeLsum", "sacrebleu"}) CHECK(m.contains(k));
  CHECK(m["rougeLsum"]["signature"].get<std::string>().find("sents:newline") != std::string::npos);
  CHECK(m["sacrebleu"]["signature"].get<std::string>().find("|nrefs:1|case:mixed|eff:no|tok:13a|smooth:floor[0.10]|version:2.6.0|") !=
        std::string::npos);
  const double bleu = m["sacrebleu"]["value"].get<double>();
  CHECK(bleu > 0.0);
  CHECK(bleu <= 100.0);
  for (const char* bad : {"--sacrebleu-smooth bogus", "--sacrebleu-tokenize intl", "--sacrebleu-smooth-value 0.2",
                          "--sacrebleu-smooth add-k --sacrebleu-smooth-value x", "--rouge-tokens char",
                          "--rouge-stem --protocol psy-insight", "--metrics rouge3"}) {
    const auto e = run_psy("score --pred " + fixture("pairs_en.jsonl") + " --metrics sacrebleu " + bad);
    INFO(bad << ": " << e.err);
    CHECK(e.exit_code == 2);
    CHECK(std::count(e.err.begin(), e.err.end(), '\n') == 1);
  }
}
