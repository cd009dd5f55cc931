#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "libpsy/data/dataset_stats.h"
#include "libpsy/data/load_sessions.h"

TEST_CASE("sentences are counted by their end marks in English and Chinese", "[stats]") {
  CHECK(psy::count_sentences("How are you? I am here. ") == 2);
  CHECK(psy::count_sentences("Okay") == 1);
  CHECK(psy::count_sentences("你好。我在这里！") == 2);
  CHECK(psy::count_sentences("Well... maybe.") == 2);
  CHECK(psy::count_sentences("") == 0);
}

TEST_CASE("statistics count turns, coverage and labels", "[stats]") {
  auto loaded = psy::parse_sessions(R"([
    {"dialog_id": "a", "psychotherapy": "CBT", "topic": "Grief", "background": "b", "dialog": [
      {"speaker": "Seeker", "content": "I lost him.", "observation": "grief", "emotional label": ["Sadness"]},
      {"speaker": "Supporter", "content": "I am sorry. Tell me about him.", "reasoning": "r", "strategy": ["Question", "Reflection of feelings"]}]},
    {"dialog_id": "b", "psychotherapy": "CBT", "dialog": [
      {"speaker": "Supporter", "content": "你好。", "strategy": ["Question"]}]}])",
                                     "x.json");
  auto st = psy::compute_stats(loaded.sessions);
  CHECK(st.sessions == 2);
  CHECK(st.turns == 3);
  CHECK(st.therapist_turns == 2);
  CHECK(st.avg_turns_per_session == Approx(1.5));
  CHECK(st.avg_sentences_per_therapist_response == Approx(1.5));
  CHECK(st.therapist_turns_with_reasoning == 1);
  CHECK(st.client_turns_with_observation == 1);
  CHECK(st.strategy.at("Question") == 2);
  CHECK(st.psychotherapy.at("CBT") == 2);
  CHECK(st.topic.at("(none)") == 1);
  auto j = nlohmann::json::parse(psy::stats_to_json(st));
  CHECK(j["sessions"] == 2);
  CHECK(j["turns"] == 3);
}
