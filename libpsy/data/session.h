// Typed values for the Psy-Insight v7 schema: a session (one counseling dialogue with its
// session-level annotations) and its turns. Empty strings mean "absent".
#pragma once
#include <string>
#include <vector>

namespace psy {

enum class Speaker { Client, Therapist };  // "Seeker" and "Supporter" in the files

struct Turn {
  std::string id;           // e.g. "0-1"
  Speaker speaker = Speaker::Client;
  std::string participant;  // e.g. "Client", "Therapist", "来访者"
  std::string content;
  // Client turns: the annotator's observation of the utterance and its emotion labels.
  std::string observation;
  std::vector<std::string> emotion_labels;
  // Therapist turns: the reasoning behind the response and its strategy labels.
  std::string reasoning;
  std::vector<std::string> strategies;
  // Extra labels some turns carry ("labels" or "reference_labels").
  std::vector<std::string> labels;

  bool is_therapist() const { return speaker == Speaker::Therapist; }
  bool is_client() const { return speaker == Speaker::Client; }
};

struct Session {
  std::string dialog_id;
  std::string theme, psychotherapy, topic, stage, guide, background, reasoning, summary;
  int is_same_qa = -1;       // 0/1, or -1 when the file leaves it empty
  int is_same_session = -1;
  std::vector<Turn> turns;

  // Where it came from, for messages and for writing subsets back unchanged.
  std::string source_file;
  size_t source_index = 0;   // 0-based position in the file
  long source_line = 0;      // 1-based line in a JSON Lines file; 0 in a JSON list
  std::string raw_json;      // the session's JSON object as it was read (compact)
};

}  // namespace psy
