// The judging loop with a scripted answerer (no model): one retry on a malformed answer, unscored
// examples counted and listed, means with bootstrap intervals, judgements.jsonl written and reused.
#include <catch2/catch.hpp>

#include <map>

#include "libpsy/core/error.h"
#include "libpsy/judge/judge_loop.h"
#include "libpsy/judge/judge_summary.h"
#include "libpsy/judge/judgement.h"
#include "libpsy/judge/rubric.h"
#include "tests/test_support.h"

using namespace psy::judge;

namespace {

Rubric rubric() {
  return parse_rubric(R"(name: t
prompt: "History: {history}\nReply: {reply}\n{answer_format}"
dimensions:
  - {name: warmth, min: 1, max: 5, description: d}
  - {name: safety, min: 0, max: 1, description: d}
)",
                      "t.yaml");
}

psy::PredictionRecord prediction(const std::string& id, const std::string& response) {
  psy::PredictionRecord p;
  p.id = id;
  p.prompt = "client: hello (" + id + ")";
  p.generation = "Response: " + response;
  p.parsed.response = response;
  p.gold.response = "gold " + id;
  return p;
}

// Answers by the reply shown: first answers and retry answers scripted per reply.
struct Script {
  std::map<std::string, std::string> first, second;
  int calls = 0;
  std::vector<std::vector<JudgeMessage>> retries;  // the conversations of retry questions
  Answerer answerer() {
    return [this](const std::vector<std::vector<JudgeMessage>>& conversations) {
      ++calls;
      std::vector<std::string> out;
      for (const auto& c : conversations) {
        const std::string& question = c.front().content;
        const auto reply = question.substr(question.find("Reply: ") + 7);
        const std::string key = reply.substr(0, reply.find('\n'));
        if (c.size() == 1) {
          out.push_back(first.at(key));
        } else {
          retries.push_back(c);
          out.push_back(second.at(key));
        }
      }
      return out;
    };
  }
};

}  // namespace

TEST_CASE("judge_items: history cut at a UTF-8 boundary, reply falls back to the generation, keys track the texts") {
  auto a = prediction("a", "fine");
  a.prompt = "xxxxxxxx\xc3\xa9\xc3\xa9";  // 8 ASCII bytes then two 2-byte characters
  auto b = prediction("b", "");
  const auto items = judge_items({a, b}, "sig", 3);
  CHECK(items[0].input.history == "[...] \xc3\xa9");  // never half a character
  CHECK(items[0].input.reply == "fine");
  CHECK(items[0].input.reference == "gold a");
  CHECK(items[0].input.observation == "(none)");
  CHECK(items[1].input.reply == "Response: ");  // nothing parsed: the raw generation
  CHECK(judge_items({a}, "sig", 0)[0].input.history == a.prompt);
  // The key changes with the settings and with every text shown, and only then.
  CHECK(judge_items({a}, "sig", 3)[0].key == items[0].key);
  CHECK(judge_items({a}, "other", 3)[0].key != items[0].key);
  auto a2 = a;
  a2.parsed.response = "fine!";
  CHECK(judge_items({a2}, "sig", 3)[0].key != items[0].key);
  CHECK(items[0].key.size() == 16);
}

TEST_CASE("one retry on a malformed answer, then unscored; means and intervals over the scored") {
  psy::test::TempDir dir;
  const auto r = rubric();
  std::vector<psy::PredictionRecord> preds = {prediction("a", "A"), prediction("b", "B"), prediction("c", "C"),
                                              prediction("d", "D")};
  const auto items = judge_items(preds, "sig", 0);
  Script s;
  s.first = {{"A", "warmth: 4\nsafety: 1"}, {"B", "I think it is warm."}, {"C", "warmth: 9\nsafety: 1"},
             {"D", "warmth: 2\nsafety: 0"}};
  s.second = {{"B", "warmth: 5\nsafety: 1"}, {"C", "warmth: high"}};
  LoopOptions o;
  o.batch_size = 3;
  o.judgements_path = dir.file("judgements_t.jsonl");
  std::vector<size_t> progress;
  o.on_progress = [&progress](size_t done, size_t total) {
    CHECK(total == 4);
    progress.push_back(done);
  };
  const auto out = judge_all(r, items, {}, s.answerer(), o);
  CHECK(progress == std::vector<size_t>{3, 4});
  CHECK(s.calls == 3);  // batch 1 (a, b, c) + its retries (b, c) + batch 2 (d)
  CHECK(out.judged == 4);
  CHECK(out.reused == 0);
  REQUIRE(out.judgements.size() == 4);
  CHECK(out.judgements[0].scored);
  CHECK(out.judgements[0].answers.size() == 1);
  CHECK(out.judgements[1].scored);  // rescued by the retry
  CHECK(out.judgements[1].answers.size() == 2);
  CHECK(out.judgements[1].problems == std::vector<std::string>{"no line 'warmth: <score>'; no line 'safety: <score>'"});
  CHECK(out.judgements[1].scores == std::map<std::string, int>{{"warmth", 5}, {"safety", 1}});
  CHECK_FALSE(out.judgements[2].scored);
  CHECK(out.judgements[2].problems.size() == 2);
  CHECK(out.judgements[2].problems[0] == "'warmth' is 9, outside 1 to 5");
  // The retry shows the earlier answer and says what was wrong with it.
  REQUIRE(s.retries.size() == 2);
  REQUIRE(s.retries[1].size() == 3);
  CHECK(s.retries[1][1].role == "assistant");
  CHECK(s.retries[1][1].content == "warmth: 9\nsafety: 1");
  CHECK(s.retries[1][2].role == "user");
  CHECK(s.retries[1][2].content.find("'warmth' is 9, outside 1 to 5") != std::string::npos);
  CHECK(s.retries[1][2].content.find("warmth: <integer from 1 to 5>\nsafety: <integer from 0 to 1>") != std::string::npos);

  const auto summary = summarize_judgements(r, out.judgements, 1000, 66);
  CHECK(summary["n_examples"] == 4);
  CHECK(summary["n_scored"] == 3);
  CHECK(summary["n_unscored"] == 1);
  CHECK(summary["unscored_ids"].dump() == "[\"c\"]");
  CHECK(summary["retried"] == 2);
  CHECK(summary["rescued_by_retry"] == 1);
  const auto& warmth = summary["dimensions"]["warmth"];
  CHECK(warmth["mean"].get<double>() == Approx((4.0 + 5.0 + 2.0) / 3.0));
  CHECK(warmth["n"] == 3);
  CHECK(warmth["min"] == 1);
  CHECK(warmth["max"] == 5);
  const double lo = warmth["ci95"][0], hi = warmth["ci95"][1];
  CHECK(lo >= 2.0);
  CHECK(hi <= 5.0);
  CHECK(lo <= warmth["mean"].get<double>());
  CHECK(hi >= warmth["mean"].get<double>());
  CHECK(summary["dimensions"]["safety"]["mean"].get<double>() == Approx(2.0 / 3.0));
  // Same seed, same intervals.
  CHECK(summarize_judgements(r, out.judgements, 1000, 66) == summary);

  // The file holds every judgement, in order, and reads back equal.
  const auto back = read_judgements(o.judgements_path);
  REQUIRE(back.size() == 4);
  CHECK(back[1].id == "b");
  CHECK(back[1].answers == out.judgements[1].answers);
  CHECK(back[2].scored == false);
  CHECK(back[0].scores == out.judgements[0].scores);

  // A rerun with the same inputs asks nothing; a changed reply is asked again, alone.
  Script again;
  auto rerun = judge_all(r, items, back, again.answerer(), o);
  CHECK(again.calls == 0);
  CHECK(rerun.reused == 4);
  auto changed = preds;
  changed[3] = prediction("d", "D2");
  again.first = {{"D2", "warmth: 1\nsafety: 1"}};
  rerun = judge_all(r, judge_items(changed, "sig", 0), back, again.answerer(), o);
  CHECK(again.calls == 1);
  CHECK(rerun.reused == 3);
  CHECK(rerun.judged == 1);
  CHECK(read_judgements(o.judgements_path)[3].scores.at("warmth") == 1);
}

TEST_CASE("nothing scored: means are null and the count says so; a broken answerer is a failure") {
  const auto r = rubric();
  const auto items = judge_items({prediction("a", "A")}, "sig", 0);
  Script s;
  s.first = {{"A", "?"}};
  s.second = {{"A", "??"}};
  const auto out = judge_all(r, items, {}, s.answerer(), LoopOptions{});
  const auto summary = summarize_judgements(r, out.judgements, 1000, 1);
  CHECK(summary["n_scored"] == 0);
  CHECK(summary["n_unscored"] == 1);
  CHECK(summary["dimensions"]["warmth"]["mean"].is_null());
  CHECK(summary["dimensions"]["warmth"]["ci95"].is_null());

  Answerer none = [](const std::vector<std::vector<JudgeMessage>>&) { return std::vector<std::string>{}; };
  try {
    judge_all(r, items, {}, none, LoopOptions{});
    FAIL("no error");
  } catch (const psy::Error& e) {
    CHECK(e.exit_code() == psy::kExitFailure);
  }
}

TEST_CASE("a damaged judgements file is one clear error") {
  psy::test::TempDir dir;
  psy::test::write_file(dir.file("j.jsonl"), "{\"id\": \"a\"}\n");
  CHECK_THROWS_WITH(read_judgements(dir.file("j.jsonl")), Catch::Contains("j.jsonl:1: field 'key': expected a string"));
  psy::test::write_file(dir.file("k.jsonl"), "not json\n");
  CHECK_THROWS_WITH(read_judgements(dir.file("k.jsonl")), Catch::Contains("k.jsonl:1: not valid JSON"));
}
