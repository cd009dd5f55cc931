// A rag_dialog run end to end on a tiny random model: psy train retrieves from the training
// split's index (built once, cached in the run folder) and psy eval retrieves the same way for
// the held-out prompts, reusing that cache.
#include <catch2/catch.hpp>

#include "libpsy/core/text_file.h"
#include "libpsy/evaluate/prediction_record.h"
#include "tests/cli/tiny_run.h"
#include "tests/retrieval/tiny_sentence_encoder.h"
#include "tests/test_support.h"

using psy::test::run_psy;

TEST_CASE("psy train and psy eval run a rag_dialog recipe with the training index", "[retrieval][run]") {
  psy::test::TempDir tmp;
  const std::string encoder = psy::test::write_tiny_sentence_encoder(tmp.file("encoder"));
  const std::string run = tmp.file("run");
  const std::string rag = "data.task=rag_dialog data.retrieval_encoder=" + encoder +
                          " data.retrieval_k=2 data.retrieval_max_tokens=96";
  auto t = run_psy(psy::test::tiny_run_args("train", run, rag + " --quiet"));
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  CHECK(psy::path_exists(run + "/retrieval/retrieval-index.json"));
  CHECK(psy::path_exists(run + "/retrieval/retrieval-queries.json"));
  const std::string index_before = psy::test::read_file(run + "/retrieval/retrieval-index.f32");
  auto e = run_psy(psy::test::tiny_run_args("eval", run, rag + " --quiet --score-threads 1"));
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(psy::test::read_file(run + "/retrieval/retrieval-index.f32") == index_before);
  // The held-out prompts carried the retrieved cases, and each prediction names them: training
  // dialogs only (never the prompt's own held-out session), at most k.
  const auto records = psy::read_predictions(run + "/predictions.jsonl");
  REQUIRE(!records.empty());
  std::size_t with_cases = 0;
  for (const auto& r : records) {
    INFO(r.id);
    CHECK(r.retrieved.size() <= 2);
    if (r.retrieved.empty()) continue;
    ++with_cases;
    CHECK(r.prompt.find("Similar cases:") != std::string::npos);
    for (const auto& id : r.retrieved) CHECK(id != r.session);
  }
  CHECK(with_cases > 0);
}
