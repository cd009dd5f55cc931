// psy report's view of judge results: judge_NAME.json means (with intervals) become metrics
// judge.NAME.DIMENSION, judgements_NAME.jsonl their per-example scores (scored examples only).
#include <catch2/catch.hpp>

#include "libpsy/report/run_results.h"
#include "libpsy/core/error.h"
#include "tests/test_support.h"

TEST_CASE("a run folder's judge files are read as metrics beside the lexical ones") {
  psy::test::TempDir dir;
  psy::test::write_file(dir.file("metrics.json"), R"({"name": "run-a", "metrics": {"bleu1": {"value": 0.2}}})");
  psy::test::write_file(dir.file("judge_cpsycoun.json"), R"({"rubric": {"name": "cpsycoun"}, "n_examples": 3, "n_scored": 2,
    "dimensions": {"safety": {"mean": 0.5, "ci95": [0.0, 1.0], "n": 2},
                   "professionalism": {"mean": null, "ci95": null, "n": 0}}})");
  psy::test::write_file(dir.file("judgements_cpsycoun.jsonl"),
                        "{\"id\": \"a\", \"scored\": true, \"scores\": {\"safety\": 1}}\n"
                        "{\"id\": \"b\", \"scored\": false, \"scores\": null}\n"
                        "{\"id\": \"c\", \"scored\": true, \"scores\": {\"safety\": 0}}\n");
  const auto r = psy::report::read_run_folder(dir.path());
  CHECK(r.name == "run-a");
  REQUIRE(r.metrics.count("bleu1"));
  REQUIRE(r.metrics.count("judge.cpsycoun.safety"));
  const auto& s = r.metrics.at("judge.cpsycoun.safety");
  CHECK(s.value == 0.5);
  CHECK(s.has_ci);
  CHECK(s.hi == 1.0);
  CHECK_FALSE(r.metrics.count("judge.cpsycoun.professionalism"));  // nothing scored: no column value
  CHECK(r.metrics.at("judge.cpsycoun.scored").value == Approx(2.0 / 3.0));  // 1 of 3 unscored
  const auto& per = r.per_example.at("judge.cpsycoun.safety");
  CHECK(per.size() == 2);
  CHECK(per.at("a") == 1.0);
  CHECK(per.at("c") == 0.0);

  // A folder with only judge results (psy judge on predictions made elsewhere) is a run folder too.
  psy::test::TempDir only;
  psy::test::write_file(only.file("judge_x.json"), R"({"rubric": {"name": "x"}, "dimensions": {"d": {"mean": 3}}})");
  CHECK(psy::report::read_run_folder(only.path()).metrics.at("judge.x.d").value == 3);
  // A judge file that is not one is an error naming it.
  psy::test::write_file(only.file("judge_y.json"), R"({"something": 1})");
  CHECK_THROWS_WITH(psy::report::read_run_folder(only.path()), Catch::Contains("judge_y.json: expected a psy judge summary"));
}
