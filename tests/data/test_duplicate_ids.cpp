// Issue 18, defects 5 and 6: a dialog_id seen twice is refused naming both places (on_error skip
// drops the later copy and reports it), across files too; a number beyond a double (1e999) is one
// error with the file and line.
#include <catch2/catch.hpp>

#include "libpsy/core/error.h"
#include "libpsy/data/load_sessions.h"
#include "tests/test_support.h"

namespace {

std::string session(const std::string& id, const std::string& extra = "") {
  return "{\"dialog_id\": \"" + id + "\", \"background\": \"b\"" + extra +
         ", \"dialog\": [{\"speaker\": \"Seeker\", \"content\": \"hi\", \"id\": \"0-0\"}, "
         "{\"speaker\": \"Supporter\", \"content\": \"hello\", \"id\": \"0-1\"}]}";
}

std::string error_of(const std::string& text, const std::string& name) {
  try {
    psy::parse_sessions(text, name);
  } catch (const psy::Error& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  return "<accepted>";
}

}  // namespace

TEST_CASE("a dialog_id given twice is refused, naming the id and both places", "[data][issue18]") {
  const std::string jsonl = session("a") + "\n" + session("b") + "\n" + session("a") + "\n";
  auto m = error_of(jsonl, "d.jsonl");
  CHECK_THAT(m, Catch::StartsWith("d.jsonl:3: session index 2") && Catch::Contains("dialog_id 'a' is given twice") &&
                    Catch::Contains("first at d.jsonl:1 (session index 0)"));
  m = error_of("[" + session("x") + ", " + session("x") + "]", "d.json");
  CHECK_THAT(m, Catch::Contains("dialog_id 'x' is given twice") && Catch::Contains("session index 0"));
}

TEST_CASE("on_error skip keeps the first copy of a repeated dialog_id and reports the later one", "[data][issue18]") {
  const std::string jsonl = session("a", ", \"topic\": \"first\"") + "\n" + session("b") + "\n" +
                            session("a", ", \"topic\": \"second\"") + "\n";
  auto loaded = psy::parse_sessions(jsonl, "d.jsonl", psy::OnError::Skip);
  REQUIRE(loaded.sessions.size() == 2);
  CHECK(loaded.sessions[0].dialog_id == "a");
  CHECK(loaded.sessions[0].topic == "first");
  REQUIRE(loaded.skipped.size() == 1);
  CHECK(loaded.skipped[0].dialog_id == "a");
  CHECK(loaded.skipped[0].index == 2);
  CHECK_THAT(loaded.skipped[0].reason, Catch::Contains("given twice") && Catch::Contains("later copy is dropped"));
}

TEST_CASE("a dialog_id repeated across two files is refused too", "[data][issue18]") {
  psy::test::TempDir tmp;
  psy::test::write_file(tmp.file("one.jsonl"), session("a") + "\n");
  psy::test::write_file(tmp.file("two.jsonl"), session("b") + "\n" + session("a") + "\n");
  try {
    psy::load_session_files({tmp.file("one.jsonl"), tmp.file("two.jsonl")}, psy::OnError::Stop);
    FAIL("accepted");
  } catch (const psy::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("two.jsonl:2") && Catch::Contains("first at " + tmp.file("one.jsonl") + ":1"));
  }
  auto skipped = psy::load_session_files({tmp.file("one.jsonl"), tmp.file("two.jsonl")}, psy::OnError::Skip);
  CHECK(skipped.sessions.size() == 2);
  CHECK(skipped.skipped.size() == 1);
}

TEST_CASE("a number beyond a double is one error with the file and line", "[data][issue18]") {
  auto m = error_of("[\n" + session("a") + ",\n" + session("b", ", \"stage\": 1e999") + "\n]", "d.json");
  CHECK_THAT(m, Catch::StartsWith("d.json:3:") && Catch::Contains("1e999 is beyond the range of a double"));
  m = error_of(session("a") + "\n" + session("b", ", \"x\": -2e400") + "\n", "d.jsonl");
  CHECK_THAT(m, Catch::StartsWith("d.jsonl:2:") && Catch::Contains("-2e400"));
  CHECK_THAT(m, !Catch::Contains("json.exception"));
  auto skipped = psy::parse_sessions(session("a") + "\n" + session("b", ", \"x\": 1e999") + "\n", "d.jsonl", psy::OnError::Skip);
  CHECK(skipped.sessions.size() == 1);
  CHECK(skipped.skipped.size() == 1);
}
