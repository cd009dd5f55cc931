// The one JSON Lines reader: blank lines skipped, errors name FILE:LINE, a torn last line either
// an error or dropped and counted, as the caller asks.
#include <catch2/catch.hpp>

#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/core/jsonl_reader.h"
#include "tests/test_support.h"

namespace {

std::vector<long> lines_of(const std::string& text, const psy::JsonlOptions& options = {}, size_t* torn = nullptr) {
  std::vector<long> lines;
  const size_t t = psy::for_each_jsonl_line_in(text, "f.jsonl", [&](const psy::JsonLine& l) { lines.push_back(l.line); },
                                               options);
  if (torn) *torn = t;
  return lines;
}

std::string error_of(const std::string& text, const psy::JsonlOptions& options = {}) {
  try {
    lines_of(text, options);
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("JSON Lines: values with their line numbers, blank lines skipped", "[core][jsonl]") {
  CHECK(lines_of("{\"a\": 1}\n\n  \r\n[2]\r\n3") == std::vector<long>{1, 4, 5});
  CHECK(lines_of("").empty());
  std::vector<std::string> where;
  psy::for_each_jsonl_line_in("{}\n\n{}\n", "x.jsonl", [&](const psy::JsonLine& l) { where.push_back(l.where); });
  CHECK(where == std::vector<std::string>{"x.jsonl:1", "x.jsonl:3"});
}

TEST_CASE("JSON Lines: an invalid line names the file and line", "[core][jsonl]") {
  CHECK_THAT(error_of("{}\n{oops\n{}\n"), Catch::StartsWith("f.jsonl:2: not valid JSON ("));
  psy::JsonlOptions hint;
  hint.invalid_hint = "use --overwrite";
  CHECK(error_of("{}\n{oops\n{}\n", hint) == "f.jsonl:2: not valid JSON (use --overwrite)");
  psy::JsonlOptions objects;
  objects.objects_only = true;
  CHECK_THAT(error_of("{}\n[1]\n", objects), Catch::Contains("f.jsonl:2: expected a JSON object, found array"));
  psy::JsonlOptions utf8;
  utf8.check_utf8 = true;
  CHECK_THAT(error_of("{\"a\": \"ok\xff\"}\n", utf8), Catch::Contains("f.jsonl:1:10") && Catch::Contains("invalid UTF-8"));
  CHECK_THAT(error_of("{oops}"), Catch::Contains("f.jsonl:1: not valid JSON"));  // torn lines are errors by default
  try {
    psy::for_each_jsonl_line("/nonexistent/f.jsonl", [](const psy::JsonLine&) {});
    FAIL("no error");
  } catch (const psy::Error& e) {
    CHECK(std::string(e.what()) == "/nonexistent/f.jsonl: cannot open the file");
  }
}

TEST_CASE("JSON Lines: a torn last line is dropped and counted when asked", "[core][jsonl]") {
  psy::JsonlOptions drop;
  drop.torn_last_line = psy::TornLastLine::Drop;
  size_t torn = 0;
  CHECK(lines_of("{}\n{}\n{\"a\": ", drop, &torn) == std::vector<long>{1, 2});
  CHECK(torn == 1);
  // Valid JSON but without its newline: the writer may have been cut mid-number, so it is dropped too.
  CHECK(lines_of("{}\n12", drop, &torn) == std::vector<long>{1});
  CHECK(torn == 1);
  // A complete but invalid last line is torn as well; an invalid line before the last is not.
  CHECK(lines_of("{}\n{bad\n", drop, &torn) == std::vector<long>{1});
  CHECK(torn == 1);
  CHECK_THAT(error_of("{bad\n{}\n", drop), Catch::Contains("f.jsonl:1: not valid JSON"));
  CHECK(lines_of("{}\n{}\n", drop, &torn).size() == 2);
  CHECK(torn == 0);
}

TEST_CASE("JSON Lines: a number beyond a double is an invalid line, not a parser exception (fuzz/)", "[core][jsonl]") {
  CHECK_THAT(error_of("{}\n{\"a\": 1e999}\n{}\n"), Catch::StartsWith("f.jsonl:2: not valid JSON ("));
  psy::JsonlOptions drop;
  drop.torn_last_line = psy::TornLastLine::Drop;
  size_t torn = 0;
  CHECK(lines_of("{}\n[-1e999]\n", drop, &torn) == std::vector<long>{1});
  CHECK(torn == 1);
}
