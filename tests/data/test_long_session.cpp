// Issue 18, defect 14: a long session's samples are built by galloping from the previous turn's
// history boundary instead of re-rendering the whole history for every turn. The boundary must
// stay exactly the one the full search finds: for sampled turns, the kept history fits whole and
// one more history pair does not.
#include <catch2/catch.hpp>

#include "libpsy/data/sample_builder.h"
#include "libpsy/data/session.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using namespace psy;

namespace {

// Pairs [from, to) of client + therapist turns, numbered as in one long session.
Session pairs_session(size_t from, size_t to) {
  Session s;
  s.dialog_id = "long";
  s.background = "A student who worries about exams.";
  for (size_t i = from; i < to; ++i) {
    Turn c;
    c.id = "0-" + std::to_string(2 * i);
    c.speaker = Speaker::Client;
    c.content = "I keep worrying about exam " + std::to_string(i) + (i % 3 ? " and sleep badly." : ".");
    c.observation = "worry";
    s.turns.push_back(c);
    Turn t;
    t.id = "0-" + std::to_string(2 * i + 1);
    t.speaker = Speaker::Therapist;
    t.content = "Tell me more about worry " + std::to_string(i) + (i % 5 ? ", and what helps." : ".");
    t.reasoning = "explore";
    s.turns.push_back(t);
  }
  return s;
}

SampleOptions long_options(SampleTask task) {
  SampleOptions o;
  o.task = task;
  o.unit = SampleUnit::Turn;
  o.max_seq_len = 400;
  return o;
}

}  // namespace

TEST_CASE("a long session's history boundary is the full search's, turn by turn", "[samples][issue18]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  for (SampleTask task : {SampleTask::Dialog, SampleTask::ObservationReasoningDialog}) {
    const size_t pairs = 600;
    const SampleSet set = build_samples({pairs_session(0, pairs)}, long_options(task), tok);
    REQUIRE(set.samples.size() == pairs);
    for (const auto& s : set.samples) CHECK(s.size() <= 400);
    CHECK(set.samples.back().dropped_history > 0);
    for (size_t k : {size_t{3}, size_t{17}, size_t{101}, size_t{350}, size_t{599}}) {
      const TokenizedSample& s = set.samples[k];
      const size_t first = static_cast<size_t>(s.dropped_history / 2);  // history pairs dropped
      INFO("task " << task_name(task) << ", turn " << k << ", first kept pair " << first);
      // The kept history alone (pairs [first, k]) fits whole and renders the same sample...
      const SampleSet kept = build_samples({pairs_session(first, k + 1)}, long_options(task), tok);
      CHECK(kept.samples.back().dropped_history == 0);
      CHECK(kept.samples.back().input_ids == s.input_ids);
      // ...and one more pair of history does not fit.
      if (first > 0) {
        const SampleSet more = build_samples({pairs_session(first - 1, k + 1)}, long_options(task), tok);
        CHECK(more.samples.back().dropped_history > 0);
      }
    }
  }
}
