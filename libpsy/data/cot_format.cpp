#include "libpsy/data/cot_format.h"

#include <algorithm>
#include <vector>

#include "libpsy/core/error.h"

namespace psy {

namespace {

const std::string kFullWidthColon = "\xEF\xBC\x9A";  // "："

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

CotFormat default_cot_format(const std::string& lang) {
  CotFormat f;
  f.lang = lang;
  if (lang == "en") {
    f.markers = {"Observation:", "Reasoning:", "Response:"};
    f.placeholder = "(not annotated)";
    const std::string counselor = "You are a psychological counselor. ";
    f.instructions = {
        {"dialog", counselor + "Reply to the client as the therapist in the counseling session below."},
        {"reasoning_dialog", counselor + "In the counseling session below, before each reply write your reasoning "
                                         "after \"{reasoning}\", then your reply to the client after \"{response}\"."},
        {"observation_reasoning_dialog",
         counselor + "In the counseling session below, before each reply write an observation of what the client "
                     "has just said after \"{observation}\", then your reasoning after \"{reasoning}\", then your "
                     "reply to the client after \"{response}\"."},
        {"emotion", "Read the counseling dialogue below and name the emotions expressed in the client's last "
                    "message. Answer with the emotion labels, separated by commas."},
        {"strategy", "Read the counseling dialogue below and name the counseling strategies used in the therapist's "
                     "last message. Answer with the strategy labels, separated by commas."},
        {"psychotherapy", "Read the counseling dialogue below and name the kind of psychotherapy the therapist practises."},
        {"topic", "Read the counseling dialogue below and name the topic of the counseling session."},
    };
    f.context_labels = {{"background", "Background:"}, {"guide", "Guide:"}, {"topic", "Topic:"},
                        {"psychotherapy", "Psychotherapy:"}, {"theme", "Theme:"}};
    f.client_label = "Client:";
    f.therapist_label = "Therapist:";
  } else if (lang == "zh") {
    f.markers = {"观察：", "推理：", "回复："};
    f.placeholder = "（无标注）";
    const std::string counselor = "你是一名心理咨询师。";
    f.instructions = {
        {"dialog", counselor + "请以咨询师的身份回复下面咨询对话中的来访者。"},
        {"reasoning_dialog", counselor + "在下面的咨询对话中，每次回复前先在“{reasoning}”后写出你的推理，再在“{response}”后写出你对来访者的回复。"},
        {"observation_reasoning_dialog",
         counselor + "在下面的咨询对话中，每次回复前先在“{observation}”后写出你对来访者刚才所说内容的观察，"
                     "然后在“{reasoning}”后写出你的推理，最后在“{response}”后写出你对来访者的回复。"},
        {"emotion", "阅读下面的咨询对话，指出来访者最后一句话中表达的情绪。用逗号分隔情绪标签作答。"},
        {"strategy", "阅读下面的咨询对话，指出治疗师最后一句话使用的咨询策略。用逗号分隔策略标签作答。"},
        {"psychotherapy", "阅读下面的咨询对话，指出治疗师采用的心理疗法。"},
        {"topic", "阅读下面的咨询对话，指出这次咨询的主题。"},
    };
    f.context_labels = {{"background", "背景："}, {"guide", "指导："}, {"topic", "话题："},
                        {"psychotherapy", "疗法："}, {"theme", "主题："}};
    f.client_label = "来访者：";
    f.therapist_label = "治疗师：";
  } else {
    throw Error("data.lang: " + expected_found("en or zh", "'" + lang + "'"));
  }
  return f;
}

void apply_format_overrides(CotFormat& f, const std::map<std::string, std::string>& overrides) {
  for (const auto& [key, value] : overrides) {
    std::string* slot = nullptr;
    if (key == "observation") slot = &f.markers.observation;
    else if (key == "reasoning") slot = &f.markers.reasoning;
    else if (key == "response") slot = &f.markers.response;
    else if (key == "placeholder") slot = &f.placeholder;
    else if (key == "client") slot = &f.client_label;
    else if (key == "therapist") slot = &f.therapist_label;
    else if (f.context_labels.count(key)) slot = &f.context_labels[key];
    if (!slot)
      throw Error("data.markers: unknown key '" + key +
                  "' (valid: observation, reasoning, response, placeholder, client, therapist, background, guide, "
                  "topic, psychotherapy, theme)");
    if (trim(value).empty()) throw Error("data.markers." + key + ": " + expected_found("a non-empty marker", "''"));
    *slot = value;
  }
}

std::string marker_prefix(const std::string& marker) {
  if (marker.empty()) return marker;
  const unsigned char last = static_cast<unsigned char>(marker.back());
  if (last < 0x80 && last != ' ' && last != '\n') return marker + " ";
  return marker;
}

std::string task_instruction(const CotFormat& f, const std::string& task) {
  auto it = f.instructions.find(task);
  if (it == f.instructions.end()) return "";
  std::string s = it->second;
  replace_all(s, "{observation}", trim(f.markers.observation));
  replace_all(s, "{reasoning}", trim(f.markers.reasoning));
  replace_all(s, "{response}", trim(f.markers.response));
  return s;
}

ParsedCot parse_cot(const std::string& text, const CotMarkers& markers) {
  struct Hit {
    size_t pos, len;
    int kind;  // 0 observation, 1 reasoning, 2 response
  };
  const std::string lowered = ascii_lower(text);
  std::vector<Hit> hits;
  const std::string* ms[3] = {&markers.observation, &markers.reasoning, &markers.response};
  for (int k = 0; k < 3; ++k) {
    std::string m = ascii_lower(trim(*ms[k]));
    if (m.empty()) continue;
    std::vector<std::string> variants = {m};
    if (ends_with(m, ":")) variants.push_back(m.substr(0, m.size() - 1) + kFullWidthColon);
    if (ends_with(m, kFullWidthColon)) variants.push_back(m.substr(0, m.size() - kFullWidthColon.size()) + ":");
    for (const auto& v : variants) {
      for (size_t pos = lowered.find(v); pos != std::string::npos; pos = lowered.find(v, pos + v.size()))
        hits.push_back({pos, v.size(), k});
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.pos < b.pos; });
  // Drop hits overlapping an earlier one.
  std::vector<Hit> kept;
  for (const auto& h : hits)
    if (kept.empty() || h.pos >= kept.back().pos + kept.back().len) kept.push_back(h);

  ParsedCot out;
  if (kept.empty()) {
    out.response = trim(text);
    out.has_response = true;
    return out;
  }
  out.any_marker = true;
  std::string* sections[3] = {&out.observation, &out.reasoning, &out.response};
  bool* found[3] = {&out.has_observation, &out.has_reasoning, &out.has_response};
  for (size_t i = 0; i < kept.size(); ++i) {
    const Hit& h = kept[i];
    if (*found[h.kind]) continue;  // the first occurrence of each section counts
    size_t begin = h.pos + h.len;
    size_t end = i + 1 < kept.size() ? kept[i + 1].pos : text.size();
    *sections[h.kind] = trim(text.substr(begin, end - begin));
    *found[h.kind] = true;
  }
  return out;
}

}  // namespace psy
