// The chain-of-thought text format shared by sample building and evaluation: section markers
// ("Observation:", "Reasoning:", "Response:"), per-task instructions, context labels and
// transcript speaker names, with English and Chinese defaults and recipe overrides; and the
// parser that splits generated text back into sections using the same markers.
#pragma once
#include <map>
#include <string>

namespace psy {

struct CotMarkers {
  std::string observation, reasoning, response;
};

struct CotFormat {
  std::string lang;                                   // en | zh
  CotMarkers markers;
  std::string placeholder;                            // text of a missing annotation (policy placeholder)
  // Instructions by task: dialog, reasoning_dialog, observation_reasoning_dialog, emotion,
  // strategy, psychotherapy, topic. "{observation}", "{reasoning}", "{response}" in them are
  // replaced by the markers.
  std::map<std::string, std::string> instructions;
  // Labels of session fields in the input: background, guide, topic, psychotherapy, theme.
  std::map<std::string, std::string> context_labels;
  std::string client_label, therapist_label;          // transcript speakers (label tasks)
};

// Defaults for "en" or "zh"; throws psy::Error for another language.
CotFormat default_cot_format(const std::string& lang);

// Applies recipe `data.markers` overrides. Keys: observation, reasoning, response, placeholder,
// client, therapist, and the context fields (background, guide, topic, psychotherapy, theme).
// Unknown keys and empty markers are psy::Error naming the key.
void apply_format_overrides(CotFormat& format, const std::map<std::string, std::string>& overrides);

// A marker as it appears before its text: a marker ending in an ASCII character gets one space
// ("Observation:" -> "Observation: "), others are used as they are ("观察：").
std::string marker_prefix(const std::string& marker);

// The instruction of `task` with its marker placeholders filled in ("" when none is defined).
std::string task_instruction(const CotFormat& format, const std::string& task);

// Generated text split into sections. Markers are found anywhere (ASCII letters compared
// without case; a trailing ':' may also be written as '：' and vice versa); each section runs to
// the next marker. Without any marker the whole text is the response (the dialog task's format).
// With markers but no response marker, `response` is empty and has_response false.
struct ParsedCot {
  std::string observation, reasoning, response;
  bool has_observation = false, has_reasoning = false, has_response = false;
  bool any_marker = false;
};
ParsedCot parse_cot(const std::string& text, const CotMarkers& markers);

}  // namespace psy
