// psy eval --checkpoints: several checkpoints of one run in one command (the base loaded once,
// adapters swapped), each into OUT/eval/step-N with the same results as evaluating it alone.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/tiny_run.h"
#include "tests/test_support.h"

using psy::test::run_psy;

namespace {

nlohmann::json metrics_of(const std::string& dir) {
  return nlohmann::json::parse(psy::test::read_file(dir + "/metrics.json"))["metrics"];
}

std::string predictions_of(const std::string& dir) { return psy::test::read_file(dir + "/predictions.jsonl"); }

}  // namespace

TEST_CASE("eval --checkpoints evaluates each checkpoint as --checkpoint does, into OUT/eval/step-N", "[run][cli]") {
  psy::test::TempDir tmp;
  const std::string run = tmp.file("run");
  const std::string quick = " eval.max_samples=3 eval.max_new_tokens=6 eval.metrics=[bleu1,distinct2] --quiet";
  // A large learning rate, so the two checkpoints generate differently.
  auto trained = run_psy(psy::test::tiny_run_args("train", run, "--quiet train.lr=0.5"));
  INFO(trained.err);
  REQUIRE(trained.exit_code == 0);

  // --checkpoints takes values up to the next option, so it comes last.
  auto both = run_psy(psy::test::tiny_run_args("eval", run, quick + " --checkpoints " + run + "/checkpoints/step-1 " +
                                                                 run + "/last"));
  INFO(both.err);
  REQUIRE(both.exit_code == 0);
  CHECK_THAT(both.out, Catch::Contains("@ step-1") && Catch::Contains("@ step-2"));

  for (const std::string step : {"step-1", "step-2"}) {
    INFO(step);
    const std::string alone = tmp.file("alone-" + step);
    auto one = run_psy(psy::test::tiny_run_args("eval", run, "--checkpoint " + run + "/checkpoints/" + step + " --out " +
                                                                 alone + quick));
    INFO(one.err);
    REQUIRE(one.exit_code == 0);
    CHECK(predictions_of(run + "/eval/" + step) == predictions_of(alone));
    CHECK(metrics_of(run + "/eval/" + step) == metrics_of(alone));
  }
  // The two adapters differ, so a swap that kept the first adapter would show here.
  CHECK(predictions_of(run + "/eval/step-1") != predictions_of(run + "/eval/step-2"));
}

TEST_CASE("eval --checkpoints refuses --name and a second model choice in one line", "[run][cli]") {
  psy::test::TempDir tmp;
  auto r = run_psy(psy::test::tiny_run_args("eval", tmp.file("run"), "--checkpoints a b --base"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("at most one of --checkpoint, --checkpoints, --adapter and --base"));
  auto n = run_psy(psy::test::tiny_run_args("eval", tmp.file("run"), "--checkpoints a b --name x"));
  CHECK(n.exit_code == 2);
  CHECK_THAT(n.err, Catch::Contains("--name names one run"));
}
