#include "libpsy/data/retrieval_prompt.h"

#include <algorithm>
#include <map>

#include "libpsy/core/error.h"
#include "libpsy/recipe/recipe.h"

namespace psy {

namespace {

std::string label_of(const CotFormat& f, const std::string& field) {
  auto it = f.context_labels.find(field);
  if (it != f.context_labels.end()) return marker_prefix(it->second);
  static const std::map<std::string, std::string> en = {{"summary", "Summary:"}, {"reasoning", "Reasoning:"}};
  static const std::map<std::string, std::string> zh = {{"summary", "总结："}, {"reasoning", "推理："}};
  const auto& table = f.lang == "zh" ? zh : en;
  auto t = table.find(field);
  return marker_prefix(t == table.end() ? field + ":" : t->second);
}

std::string join_names(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

const std::vector<std::string>& retrieval_field_names() {
  static const std::vector<std::string> names = {"topic", "guide", "summary", "background",
                                                 "psychotherapy", "theme", "reasoning"};
  return names;
}

const std::string& retrieval_field(const Session& s, const std::string& name) {
  if (name == "topic") return s.topic;
  if (name == "guide") return s.guide;
  if (name == "summary") return s.summary;
  if (name == "background") return s.background;
  if (name == "psychotherapy") return s.psychotherapy;
  if (name == "reasoning") return s.reasoning;
  if (name == "theme") return s.theme;
  throw Error("retrieval field: " + expected_found(join_names(retrieval_field_names()), "'" + name + "'"));
}

SampleTask rendering_task(SampleTask t) {
  if (t == SampleTask::RagDialog) return SampleTask::Dialog;
  if (t == SampleTask::RagDialogExplanation) return SampleTask::ReasoningDialog;
  return t;
}

std::string retrieval_query(const Session& s, size_t turn_index, size_t query_turns) {
  std::string q = s.background;
  const size_t end = std::min(turn_index, s.turns.size());
  const size_t begin = end > query_turns ? end - query_turns : 0;
  for (size_t i = begin; i < end; ++i) {
    if (s.turns[i].content.empty()) continue;
    if (!q.empty()) q += "\n";
    q += s.turns[i].content;
  }
  return q;
}

std::string retrieval_document(const Session& s, const std::vector<std::string>& fields) {
  std::string d;
  for (const auto& f : fields) {
    const std::string& v = retrieval_field(s, f);
    if (v.empty()) continue;
    if (!d.empty()) d += "\n";
    d += v;
  }
  return d;
}

std::string retrieved_cases_header(const std::string& lang) {
  return lang == "zh" ? "\n\n相似案例：" : "\n\nSimilar cases:";
}

std::string retrieved_case_text(const Session& c, size_t number, const RetrievalOptions& o, const CotFormat& f,
                                bool explanations) {
  std::string text = "\n[" + std::to_string(number) + "]";
  bool first = true;
  for (const auto& field : o.fields) {
    const std::string& v = retrieval_field(c, field);
    if (v.empty()) continue;
    text += (first ? " " : "\n") + label_of(f, field) + v;
    first = false;
  }
  if (explanations) {
    for (const auto& t : c.turns) {
      if (!t.is_therapist() || t.reasoning.empty() || t.content.empty()) continue;
      text += "\n" + marker_prefix(f.markers.reasoning) + t.reasoning + "\n" + marker_prefix(f.markers.response) + t.content;
    }
  }
  return text;
}

void add_retrieval_instructions(CotFormat& f) {
  const bool zh = f.lang == "zh";
  const std::string dialog = f.instructions.count("dialog") ? f.instructions["dialog"] : "";
  const std::string reasoning = f.instructions.count("reasoning_dialog") ? f.instructions["reasoning_dialog"] : "";
  const std::string note = zh ? "下面列出的相似案例可供参考。" : " Similar cases from other sessions are listed for reference.";
  if (!f.instructions.count("rag_dialog")) f.instructions["rag_dialog"] = dialog + note;
  if (!f.instructions.count("rag_dialog_explanation")) f.instructions["rag_dialog_explanation"] = reasoning + note;
}

void retrieval_options_from_recipe(const Recipe& r, RetrievalOptions& o) {
  o.encoder = r.data.retrieval_encoder;
  o.k = r.data.retrieval_k > 0 ? static_cast<size_t>(r.data.retrieval_k) : 0;
  o.fields = r.data.retrieval_fields;
  o.index_fields = r.data.retrieval_index_fields;
  o.query_turns = r.data.retrieval_query_turns > 0 ? static_cast<size_t>(r.data.retrieval_query_turns) : 0;
  o.max_tokens = r.data.retrieval_max_tokens > 0 ? static_cast<size_t>(r.data.retrieval_max_tokens) : 0;
}

void validate_retrieval_options(const SampleOptions& o) {
  const auto& names = retrieval_field_names();
  auto check = [&](const std::vector<std::string>& fields, const std::string& key) {
    if (fields.empty()) throw Error(key + ": " + expected_found("at least one of " + join_names(names), "an empty list"));
    for (const auto& f : fields)
      if (std::find(names.begin(), names.end(), f) == names.end())
        throw Error(key + ": unknown field '" + f + "' (valid: " + join_names(names) + ")");
  };
  check(o.retrieval.fields, "data.retrieval_fields");
  check(o.retrieval.index_fields, "data.retrieval_index_fields");
  if (o.retrieval.k < 1) throw Error("data.retrieval_k: " + expected_found("at least 1", std::to_string(o.retrieval.k)));
  if (o.unit != SampleUnit::Turn)
    throw Error(std::string("data.unit: task ") + task_name(o.task) +
                " retrieves per therapist turn; " + expected_found("turn", "'session'"));
}

}  // namespace psy
