// Rubric files: the bundled rubrics load; malformed ones fail with one line naming the file, the
// line and the key; prompts are filled from the example.
#include <catch2/catch.hpp>

#include "libpsy/core/error.h"
#include "libpsy/judge/rubric.h"
#include "tests/test_support.h"

using psy::judge::parse_rubric;

namespace {

const char* kSmall = R"(name: small
prompt: "H={history} R={reply} G={reference}\n{dimensions}\n{answer_format}"
dimensions:
  - name: warmth
    min: 1
    max: 5
    description: how warm
    levels: {5: very warm, 1: cold}
  - name: safety
    min: 0
    max: 1
    description: no harm
)";

std::string error_of(const std::string& yaml) {
  try {
    parse_rubric(yaml, "r.yaml");
  } catch (const psy::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the bundled rubrics load with the dimensions the issue names") {
  const std::string dir = psy::test::source_dir() + "/rubrics/";
  auto names = [](const psy::judge::Rubric& r) {
    std::vector<std::string> out;
    for (const auto& d : r.dimensions) out.push_back(d.name);
    return out;
  };
  const auto c = psy::judge::load_rubric(dir + "cpsycoun.yaml");
  CHECK(c.name == "cpsycoun");
  CHECK(names(c) == std::vector<std::string>{"comprehensiveness", "professionalism", "authenticity", "safety"});
  CHECK(c.dimensions[0].max == 2);
  CHECK(c.dimensions[3].min == 0);
  CHECK(c.dimensions[3].max == 1);
  CHECK(c.sha256.size() == 64);
  const auto p = psy::judge::load_rubric(dir + "psy_insight.yaml");
  CHECK(names(p) == std::vector<std::string>{"interactivity", "helpfulness", "comforting", "explainability"});
  const auto t = psy::judge::load_rubric(dir + "ctrs.yaml");
  CHECK(t.name == "ctrs");
  CHECK(t.dimensions.size() == 6);
  for (const auto& d : t.dimensions) CHECK((d.min == 0 && d.max == 6));
}

TEST_CASE("a rubric's prompt is filled from the example; the answer format lists every dimension") {
  const auto r = parse_rubric(kSmall, "small.yaml");
  psy::judge::JudgeInput in;
  in.history = "client: I feel {reply} alone";  // braces in the texts are not placeholders
  in.reply = "That sounds hard.";
  in.reference = "gold";
  const auto m = psy::judge::judge_messages(r, in);
  REQUIRE(m.size() == 1);  // no system message in this rubric
  CHECK(m[0].role == "user");
  CHECK(m[0].content.rfind("H=client: I feel {reply} alone R=That sounds hard. G=gold\n", 0) == 0);
  CHECK(m[0].content.find("- warmth (an integer from 1 to 5): how warm\n    1 = cold\n    5 = very warm") !=
        std::string::npos);
  CHECK(psy::judge::render_answer_format(r) == "warmth: <integer from 1 to 5>\nsafety: <integer from 0 to 1>");
  const std::string retry = psy::judge::retry_message(r, "no line 'safety: <score>'");
  CHECK(retry.find("no line 'safety: <score>'") != std::string::npos);
  CHECK(retry.find("safety: <integer from 0 to 1>") != std::string::npos);
}

TEST_CASE("malformed rubrics fail with one line: file, line, key, expected") {
  CHECK(error_of("name: x\nprompt: '{reply}'\n") == "r.yaml:1: field 'dimensions': missing (expected a list of dimensions)");
  CHECK(error_of("- a\n- b\n").find("r.yaml: expected a rubric") == 0);
  CHECK(error_of("name: [x\n").find("r.yaml:") == 0);
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions: []\n").find("non-empty list of dimensions") != std::string::npos);
  CHECK(error_of("name: x\nprompt: 'no reply here'\ndimensions: [{name: a, min: 1, max: 2, description: d}]\n")
            .find("expected the placeholder {reply}") != std::string::npos);
  CHECK(error_of("name: x\nprompt: '{reply} {histroy}'\ndimensions: [{name: a, min: 1, max: 2, description: d}]\n")
            .find("unknown placeholder {histroy}") != std::string::npos);
  CHECK(error_of("name: x\nprompt: '{reply}'\ncolour: red\ndimensions: [{name: a, min: 1, max: 2, description: d}]\n") ==
        "r.yaml:3: field 'colour': unknown key (valid: about, dimensions, name, prompt, retry, system, title)");
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions:\n  - {name: a, min: 3, max: 2, description: d}\n") ==
        "r.yaml:4: field 'dimensions[0].max': expected a number above min (3), found 2");
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions:\n  - {name: a, min: one, max: 2, description: d}\n")
            .find("field 'dimensions[0].min': expected an integer") != std::string::npos);
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions:\n  - {name: a, max: 2, description: d}\n")
            .find("field 'dimensions[0].min': missing") != std::string::npos);
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions:\n  - {name: a, min: 1, max: 2, description: d}\n"
                 "  - {name: a, min: 1, max: 2, description: e}\n")
            .find("dimension 'a' is given twice") != std::string::npos);
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions:\n  - {name: Bad Name, min: 1, max: 2, description: d}\n")
            .find("lower-case letters, digits and _") != std::string::npos);
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions:\n  - {name: a, min: 1, max: 2, description: d, levels: {7: x}}\n")
            .find("expected a score from 1 to 2, found 7") != std::string::npos);
  CHECK(error_of("name: x\nprompt: '{reply}'\ndimensions:\n  - {name: a, min: 1, max: 2}\n")
            .find("field 'dimensions[0].description': missing") != std::string::npos);
  try {
    psy::judge::load_rubric("/no/such/rubric.yaml");
    FAIL("no error");
  } catch (const psy::Error& e) {
    CHECK(std::string(e.what()) == "/no/such/rubric.yaml: no such rubric file (expected a YAML rubric, e.g. rubrics/cpsycoun.yaml)");
    CHECK(e.exit_code() == 2);
  }
}
