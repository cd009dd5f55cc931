#include "libpsy/data/dataset_stats.h"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "libpsy/core/utf8.h"

namespace psy {

namespace {
bool is_sentence_end(char32_t c) {
  return c == U'.' || c == U'!' || c == U'?' || c == U'。' || c == U'！' || c == U'？' || c == U'…';
}
bool is_space_or_closer(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == U'"' || c == U'\'' || c == U'”' ||
         c == U'’' || c == U'」' || c == U'）' || c == U')';
}
double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }
std::string label_or_none(const std::string& s) { return s.empty() ? "(none)" : s; }
}  // namespace

size_t count_sentences(const std::string& text) {
  size_t n = 0;
  bool in_sentence = false;
  for (char32_t c : decode_utf8(text)) {
    if (is_sentence_end(c)) {
      if (in_sentence) ++n;
      in_sentence = false;
    } else if (!is_space_or_closer(c)) {
      in_sentence = true;
    }
  }
  if (in_sentence) ++n;
  return n;
}

DatasetStats compute_stats(const std::vector<Session>& sessions) {
  DatasetStats s;
  s.sessions = sessions.size();
  double sentences = 0, therapist_chars = 0, client_chars = 0;
  for (const auto& session : sessions) {
    s.turns += session.turns.size();
    s.psychotherapy[label_or_none(session.psychotherapy)]++;
    s.topic[label_or_none(session.topic)]++;
    if (!session.background.empty()) s.sessions_with_background++;
    if (!session.guide.empty()) s.sessions_with_guide++;
    if (!session.summary.empty()) s.sessions_with_summary++;
    for (const auto& t : session.turns) {
      if (t.is_therapist()) {
        s.therapist_turns++;
        sentences += static_cast<double>(count_sentences(t.content));
        therapist_chars += static_cast<double>(utf8_length(t.content));
        if (!t.reasoning.empty()) s.therapist_turns_with_reasoning++;
        if (!t.strategies.empty()) s.therapist_turns_with_strategy++;
        for (const auto& l : t.strategies) s.strategy[l]++;
      } else {
        s.client_turns++;
        client_chars += static_cast<double>(utf8_length(t.content));
        if (!t.observation.empty()) s.client_turns_with_observation++;
        if (!t.emotion_labels.empty()) s.client_turns_with_emotion++;
        for (const auto& l : t.emotion_labels) s.emotion[l]++;
      }
    }
  }
  s.avg_turns_per_session = ratio(static_cast<double>(s.turns), static_cast<double>(s.sessions));
  s.avg_sentences_per_therapist_response = ratio(sentences, static_cast<double>(s.therapist_turns));
  s.avg_chars_per_therapist_response = ratio(therapist_chars, static_cast<double>(s.therapist_turns));
  s.avg_chars_per_client_utterance = ratio(client_chars, static_cast<double>(s.client_turns));
  return s;
}

namespace {
std::string distribution_text(const std::string& title, const std::map<std::string, size_t>& m) {
  std::vector<std::pair<std::string, size_t>> items(m.begin(), m.end());
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  size_t total = 0;
  for (const auto& it : items) total += it.second;
  std::string out = fmt::format("\n{} ({} distinct, {} total)\n", title, items.size(), total);
  for (const auto& [label, count] : items) {
    out += fmt::format("  {:>6}  {:5.1f}%  {}\n", count, 100.0 * ratio(static_cast<double>(count), static_cast<double>(total)), label);
  }
  return out;
}
std::string pct(size_t a, size_t b) {
  return fmt::format("{} / {} ({:.1f}%)", a, b, 100.0 * ratio(static_cast<double>(a), static_cast<double>(b)));
}
}  // namespace

std::string stats_to_text(const DatasetStats& s) {
  std::string out;
  out += fmt::format("sessions                          {}\n", s.sessions);
  out += fmt::format("turns                             {} ({} client, {} therapist)\n", s.turns, s.client_turns,
                     s.therapist_turns);
  out += fmt::format("turns per session                 {:.2f}\n", s.avg_turns_per_session);
  out += fmt::format("sentences per therapist response  {:.2f}\n", s.avg_sentences_per_therapist_response);
  out += fmt::format("characters per therapist response {:.1f}\n", s.avg_chars_per_therapist_response);
  out += fmt::format("characters per client utterance   {:.1f}\n", s.avg_chars_per_client_utterance);
  out += "\nannotation coverage\n";
  out += "  client turns with observation     " + pct(s.client_turns_with_observation, s.client_turns) + "\n";
  out += "  client turns with emotion labels  " + pct(s.client_turns_with_emotion, s.client_turns) + "\n";
  out += "  therapist turns with reasoning    " + pct(s.therapist_turns_with_reasoning, s.therapist_turns) + "\n";
  out += "  therapist turns with strategy     " + pct(s.therapist_turns_with_strategy, s.therapist_turns) + "\n";
  out += "  sessions with background          " + pct(s.sessions_with_background, s.sessions) + "\n";
  out += "  sessions with guide               " + pct(s.sessions_with_guide, s.sessions) + "\n";
  out += "  sessions with summary             " + pct(s.sessions_with_summary, s.sessions) + "\n";
  out += distribution_text("psychotherapy", s.psychotherapy);
  out += distribution_text("topic", s.topic);
  out += distribution_text("strategy (therapist turns)", s.strategy);
  out += distribution_text("emotion (client turns)", s.emotion);
  return out;
}

std::string stats_to_json(const DatasetStats& s) {
  nlohmann::ordered_json j;
  j["sessions"] = s.sessions;
  j["turns"] = s.turns;
  j["client_turns"] = s.client_turns;
  j["therapist_turns"] = s.therapist_turns;
  j["avg_turns_per_session"] = s.avg_turns_per_session;
  j["avg_sentences_per_therapist_response"] = s.avg_sentences_per_therapist_response;
  j["avg_chars_per_therapist_response"] = s.avg_chars_per_therapist_response;
  j["avg_chars_per_client_utterance"] = s.avg_chars_per_client_utterance;
  j["coverage"] = {
      {"client_turns_with_observation", s.client_turns_with_observation},
      {"client_turns_with_emotion", s.client_turns_with_emotion},
      {"therapist_turns_with_reasoning", s.therapist_turns_with_reasoning},
      {"therapist_turns_with_strategy", s.therapist_turns_with_strategy},
      {"sessions_with_background", s.sessions_with_background},
      {"sessions_with_guide", s.sessions_with_guide},
      {"sessions_with_summary", s.sessions_with_summary},
  };
  j["psychotherapy"] = s.psychotherapy;
  j["topic"] = s.topic;
  j["strategy"] = s.strategy;
  j["emotion"] = s.emotion;
  return j.dump(2);
}

}  // namespace psy
