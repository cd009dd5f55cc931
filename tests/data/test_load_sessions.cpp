#include <catch2/catch.hpp>

#include "libpsy/core/error.h"
#include "libpsy/data/load_sessions.h"
#include "tests/test_support.h"

using psy::OnError;
using psy::parse_sessions;

namespace {

const char* kGood = R"J([
 {"dialog_id": "a1", "theme": "", "psychotherapy": "CBT", "topic": "Work Stress", "stage": "", "guide": "",
  "is_same_qa": 0, "is_same_session": 0, "background": "bg", "reasoning": "r", "summary": "s",
  "dialog": [
   {"speaker": "Seeker", "participant": "Client", "content": "I feel tired.", "id": "0-0",
    "observation": "Client reports fatigue.", "emotional label": ["Sadness"]},
   {"speaker": "Supporter", "participant": "Therapist", "content": "Tell me more.", "id": "0-1",
    "reasoning": "Invite elaboration.", "strategy": ["Question"], "reference_labels": "[Nods.]"}
  ]},
 {"dialog_id": 7, "is_same_qa": "", "dialog": [
   {"speaker": "Supporter", "content": "你好。", "id": "1-0",
    "labels": [{"label": "（点头)", "index": 0, "type": "dialogue_act"}], "extra_key": 1}]}
])J";

std::string message_of(const std::string& text, OnError mode = OnError::Stop) {
  try {
    parse_sessions(text, "f.json", mode);
  } catch (const psy::Error& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  FAIL("expected an error");
  return "";
}

std::string session_with_turn(const std::string& turn) {
  return R"([{"dialog_id": "d9", "dialog": [)" + turn + "]}]";
}

}  // namespace

TEST_CASE("the released schema loads into typed sessions, tolerating the real files' variations", "[data]") {
  auto loaded = parse_sessions(kGood, "f.json");
  REQUIRE(loaded.sessions.size() == 2);
  const auto& s = loaded.sessions[0];
  CHECK(s.dialog_id == "a1");
  CHECK(s.psychotherapy == "CBT");
  CHECK(s.is_same_qa == 0);
  REQUIRE(s.turns.size() == 2);
  CHECK(s.turns[0].is_client());
  CHECK(s.turns[0].observation == "Client reports fatigue.");
  CHECK(s.turns[0].emotion_labels == std::vector<std::string>{"Sadness"});
  CHECK(s.turns[1].is_therapist());
  CHECK(s.turns[1].strategies == std::vector<std::string>{"Question"});
  CHECK(s.turns[1].labels == std::vector<std::string>{"[Nods.]"});
  const auto& t = loaded.sessions[1];
  CHECK(t.dialog_id == "7");
  CHECK(t.is_same_qa == -1);
  CHECK(t.turns[0].labels == std::vector<std::string>{"（点头)"});
  CHECK(t.turns[0].reasoning.empty());
}

TEST_CASE("JSON Lines holds one session per line", "[data]") {
  std::string jsonl = R"({"dialog_id": "x", "dialog": [{"speaker": "Seeker", "content": "hi", "id": "0-0"}]})"
                      "\n\n"
                      R"({"dialog_id": "y", "dialog": [{"speaker": "Supporter", "content": "hello", "id": "0-0"}]})"
                      "\n";
  auto loaded = parse_sessions(jsonl, "f.jsonl");
  REQUIRE(loaded.sessions.size() == 2);
  CHECK(loaded.sessions[1].dialog_id == "y");
}

TEST_CASE("errors name the file, session, turn, field, and expected versus found", "[data][errors]") {
  SECTION("malformed JSON gives line and column") {
    auto m = message_of("[\n {\"dialog_id\": \"a\",\n  \"dialog\": [}\n]");
    CHECK_THAT(m, Catch::StartsWith("f.json:3:"));
    CHECK_THAT(m, Catch::Contains("malformed JSON"));
  }
  SECTION("a turn without content") {
    auto m = message_of(session_with_turn(R"({"speaker": "Seeker", "id": "3-1"})"));
    CHECK_THAT(m, Catch::Contains("session index 0 (dialog_id d9)"));
    CHECK_THAT(m, Catch::Contains("turn 3-1"));
    CHECK_THAT(m, Catch::Contains("field 'content'"));
    CHECK_THAT(m, Catch::Contains("missing"));
  }
  SECTION("wrong types") {
    auto m = message_of(session_with_turn(R"({"speaker": "Seeker", "id": "3-1", "content": 5})"));
    CHECK_THAT(m, Catch::Contains("field 'content': expected a string, found number"));
    m = message_of(R"([{"dialog_id": "d", "background": ["x"], "dialog": []}])");
    CHECK_THAT(m, Catch::Contains("field 'background': expected a string, found array"));
    m = message_of(session_with_turn(R"({"speaker": "Seeker", "id": "1", "content": "x", "emotional label": 3})"));
    CHECK_THAT(m, Catch::Contains("field 'emotional label': expected a list of strings, found number"));
  }
  SECTION("an unknown speaker") {
    auto m = message_of(session_with_turn(R"({"speaker": "Coach", "id": "0-4", "content": "x"})"));
    CHECK_THAT(m, Catch::Contains("turn 0-4, field 'speaker': expected \"Seeker\" or \"Supporter\", found \"Coach\""));
  }
  SECTION("invalid UTF-8 gives line, column and byte offset") {
    auto m = message_of(std::string("[\n{\"dialog_id\": \"a\xff\"}]"));
    CHECK_THAT(m, Catch::StartsWith("f.json:2:"));
    CHECK_THAT(m, Catch::Contains("invalid UTF-8"));
  }
  SECTION("an empty file") {
    CHECK_THAT(message_of("  \n"), Catch::Contains("empty file"));
    CHECK_THAT(message_of("\xEF\xBB\xBF"), Catch::Contains("empty file"));  // a byte order mark alone (fuzz/)
    CHECK_THAT(message_of(" \xEF\xBB\xBF \n"), Catch::Contains("empty file"));
  }
  SECTION("not a list of sessions") {
    CHECK_THAT(message_of("\"text\""), Catch::Contains("expected a JSON list of sessions"));
    CHECK_THAT(message_of("[1]"), Catch::Contains("expected an object (one session), found number"));
  }
  SECTION("a session without turns") {
    CHECK_THAT(message_of(R"([{"dialog_id": "d", "dialog": []}])"), Catch::Contains("field 'dialog': empty"));
    CHECK_THAT(message_of(R"([{"dialog_id": "d"}])"), Catch::Contains("field 'dialog': missing"));
  }
}

TEST_CASE("a missing file is one clear error", "[data][errors]") {
  CHECK_THROWS_WITH(psy::load_sessions("/nonexistent/psy.json"), Catch::Contains("/nonexistent/psy.json: cannot open"));
}

TEST_CASE("skip mode keeps going and reports what it skipped and why", "[data][errors]") {
  std::string text = R"([
    {"dialog_id": "ok1", "dialog": [{"speaker": "Seeker", "content": "a", "id": "0-0"}]},
    {"dialog_id": "bad", "dialog": [{"speaker": "Nobody", "content": "a", "id": "0-0"}]},
    {"dialog_id": "ok2", "dialog": [{"speaker": "Supporter", "content": "b", "id": "0-0"}]}
  ])";
  CHECK_THROWS_AS(parse_sessions(text, "f.json", OnError::Stop), psy::Error);
  auto loaded = parse_sessions(text, "f.json", OnError::Skip);
  REQUIRE(loaded.sessions.size() == 2);
  REQUIRE(loaded.skipped.size() == 1);
  CHECK(loaded.skipped[0].index == 1);
  CHECK(loaded.skipped[0].dialog_id == "bad");
  CHECK_THAT(loaded.skipped[0].reason, Catch::Contains("speaker"));
  std::string jsonl = "{\"dialog_id\": \"a\", \"dialog\": [{\"speaker\": \"Seeker\", \"content\": \"x\"}]}\n{broken\n";
  auto l2 = parse_sessions(jsonl, "f.jsonl", OnError::Skip);
  CHECK(l2.sessions.size() == 1);
  REQUIRE(l2.skipped.size() == 1);
  CHECK_THAT(l2.skipped[0].reason, Catch::Contains("f.jsonl:2"));
}

TEST_CASE("the bundled sample dataset loads with full annotations", "[data][sample]") {
  for (const char* name : {"psy_insight_sample_en.json", "psy_insight_sample_zh.json"}) {
    auto loaded = psy::load_sessions(psy::test::source_dir() + "/data/sample/" + name);
    CHECK(loaded.sessions.size() >= 6);
    size_t therapist = 0, with_reasoning = 0;
    for (const auto& s : loaded.sessions) {
      CHECK_FALSE(s.background.empty());
      for (const auto& t : s.turns) {
        if (t.is_therapist()) {
          ++therapist;
          with_reasoning += !t.reasoning.empty();
        }
      }
    }
    CHECK(therapist > 20);
    CHECK(with_reasoning >= therapist - 1);
  }
}

TEST_CASE("the real Psy-Insight files load completely", "[data][shared]") {
  const std::string en = psy::test::shared_path("data/psy-insight/en_data_version7.json");
  const std::string zh = psy::test::shared_path("data/psy-insight/cn_data_version7.json");
  if (en.empty() || zh.empty()) return;
  auto e = psy::load_sessions(en);
  auto z = psy::load_sessions(zh);
  CHECK(e.sessions.size() == 520);
  CHECK(z.sessions.size() == 431);
  size_t et = 0, zt = 0;
  for (const auto& s : e.sessions) et += s.turns.size();
  for (const auto& s : z.sessions) zt += s.turns.size();
  CHECK(et == 6208);
  CHECK(zt == 5776);
}
