// The judge's answer format: `name: <integer>` per dimension. Malformed answers (missing or
// repeated dimensions, out-of-range or non-integer values) are reported, never thrown.
#include <catch2/catch.hpp>

#include "libpsy/judge/judge_answer.h"
#include "libpsy/judge/rubric.h"

using psy::judge::parse_judge_answer;

namespace {

psy::judge::Rubric rubric() {
  return psy::judge::parse_rubric(R"(name: t
prompt: "{reply}"
dimensions:
  - {name: help, min: 1, max: 5, description: d}
  - {name: helpfulness, min: 1, max: 5, description: d}
  - {name: safety, min: 0, max: 1, description: d}
)",
                                  "t.yaml");
}

}  // namespace

TEST_CASE("well-formed answers are read, with the decoration small models add") {
  const auto r = rubric();
  auto a = parse_judge_answer("help: 3\nhelpfulness: 5\nsafety: 1", r);
  REQUIRE(a.ok);
  CHECK(a.problem.empty());
  CHECK(a.scores == std::map<std::string, int>{{"help", 3}, {"helpfulness", 5}, {"safety", 1}});
  // Preamble and closing text ignored; order free; case, bullets, bold, '=' and a final '.' allowed.
  a = parse_judge_answer("Here are my scores:\n\n- **Safety**: 0\n* HELPFULNESS = 2.\n  help:4  \r\nThanks!", r);
  REQUIRE(a.ok);
  CHECK(a.scores == std::map<std::string, int>{{"help", 4}, {"helpfulness", 2}, {"safety", 0}});
  a = parse_judge_answer("**help:** 1\n**helpfulness**: 1**\nsafety : 1", r);
  REQUIRE(a.ok);
  CHECK(a.scores.at("help") == 1);
  // Prose that mentions a dimension without a ':' is not a score line.
  a = parse_judge_answer("help is good overall\nhelp: 2\nhelpfulness: 2\nsafety: 1", r);
  REQUIRE(a.ok);
  CHECK(a.scores.at("help") == 2);
}

TEST_CASE("malformed answers say what is wrong and give no scores") {
  const auto r = rubric();
  auto bad = [&r](const std::string& answer) {
    auto a = parse_judge_answer(answer, r);
    CHECK_FALSE(a.ok);
    CHECK(a.scores.empty());
    return a.problem;
  };
  CHECK(bad("") == "no line 'help: <score>'; no line 'helpfulness: <score>'; no line 'safety: <score>'");
  CHECK(bad("help: 3\nhelpfulness: 5") == "no line 'safety: <score>'");
  CHECK(bad("help: 6\nhelpfulness: 5\nsafety: 1") == "'help' is 6, outside 1 to 5");
  CHECK(bad("help: 0\nhelpfulness: -1\nsafety: 2") ==
        "'help' is 0, outside 1 to 5; 'helpfulness' is -1, outside 1 to 5; 'safety' is 2, outside 0 to 1");
  CHECK(bad("help: 4/5\nhelpfulness: 5\nsafety: 1") == "'help' has '4/5' where a whole number from 1 to 5 was expected");
  CHECK(bad("help: 4.5\nhelpfulness: 5\nsafety: 1").find("'help' has '4.5'") == 0);
  CHECK(bad("help: four\nhelpfulness: 5\nsafety: 1").find("'help' has 'four'") == 0);
  CHECK(bad("help:\nhelpfulness: 5\nsafety: 1").find("'help' has ''") == 0);
  CHECK(bad("help: 3 because it is kind\nhelpfulness: 5\nsafety: 1").find("'help' has '3 because it is kind'") == 0);
  CHECK(bad("help: 3\nhelp: 3\nhelpfulness: 5\nsafety: 1") == "'help' is scored twice");
  CHECK(bad("help: 99999999999999999999\nhelpfulness: 5\nsafety: 1").find("'help' has '99999999999999999999'") == 0);
  CHECK(bad("helpful: 3\nhelpfulness: 5\nsafety: 1") == "no line 'help: <score>'");
  // Long junk is quoted short.
  const std::string p = bad("help: " + std::string(500, 'x') + "\nhelpfulness: 5\nsafety: 1");
  CHECK(p.size() < 140);
  // Bytes that are not UTF-8, NULs and a huge answer never crash the parser.
  CHECK_FALSE(parse_judge_answer(std::string("help: \xff\xfe\0 3", 10), r).ok);
  CHECK_FALSE(parse_judge_answer(std::string(1 << 20, '\n'), r).ok);
}
