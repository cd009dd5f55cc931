// The dataset statistics the Psy-Insight paper reports (its Tables 1-3 and 8): sizes, turn
// and response lengths, label distributions and annotation coverage.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "libpsy/data/session.h"

namespace psy {

struct DatasetStats {
  size_t sessions = 0;
  size_t turns = 0;
  size_t client_turns = 0;
  size_t therapist_turns = 0;
  double avg_turns_per_session = 0;
  double avg_sentences_per_therapist_response = 0;
  double avg_chars_per_therapist_response = 0;   // Unicode code points
  double avg_chars_per_client_utterance = 0;
  // Annotation coverage.
  size_t client_turns_with_observation = 0;
  size_t client_turns_with_emotion = 0;
  size_t therapist_turns_with_reasoning = 0;
  size_t therapist_turns_with_strategy = 0;
  size_t sessions_with_background = 0;
  size_t sessions_with_guide = 0;
  size_t sessions_with_summary = 0;
  // Label distributions (label -> count); empty labels are counted as "(none)".
  std::map<std::string, size_t> psychotherapy, topic, strategy, emotion;
};

DatasetStats compute_stats(const std::vector<Session>& sessions);

// Sentences in an utterance: runs of text ended by . ! ? 。！？… (or the end), counting a
// trailing fragment; used for "sentences per response".
size_t count_sentences(const std::string& text);

// Human-readable report and one JSON object (top-level keys include "sessions", "turns").
std::string stats_to_text(const DatasetStats& s);
std::string stats_to_json(const DatasetStats& s);

}  // namespace psy
