#include "libpsy/data/sample_options.h"

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/data/cot_format.h"
#include "libpsy/data/retrieval_prompt.h"
#include "libpsy/recipe/recipe.h"

namespace psy {

const char* task_name(SampleTask t) {
  switch (t) {
    case SampleTask::Dialog: return "dialog";
    case SampleTask::ReasoningDialog: return "reasoning_dialog";
    case SampleTask::ObservationReasoningDialog: return "observation_reasoning_dialog";
    case SampleTask::Mix: return "mix";
    case SampleTask::Emotion: return "emotion";
    case SampleTask::Strategy: return "strategy";
    case SampleTask::Psychotherapy: return "psychotherapy";
    case SampleTask::Topic: return "topic";
    case SampleTask::RagDialog: return "rag_dialog";
    case SampleTask::RagDialogExplanation: return "rag_dialog_explanation";
  }
  return "dialog";
}

SampleTask parse_task(const std::string& name, const std::string& key) {
  for (SampleTask t : {SampleTask::Dialog, SampleTask::ReasoningDialog, SampleTask::ObservationReasoningDialog,
                       SampleTask::Mix, SampleTask::Emotion, SampleTask::Strategy, SampleTask::Psychotherapy,
                       SampleTask::Topic, SampleTask::RagDialog, SampleTask::RagDialogExplanation})
    if (name == task_name(t)) return t;
  throw Error(key + ": unknown task '" + name +
              "' (valid: dialog, reasoning_dialog, observation_reasoning_dialog, mix, emotion, strategy, "
              "psychotherapy, topic, rag_dialog, rag_dialog_explanation)");
}

bool is_dialog_task(SampleTask t) {
  return t == SampleTask::Dialog || t == SampleTask::ReasoningDialog || t == SampleTask::ObservationReasoningDialog ||
         is_retrieval_task(t);
}

bool is_retrieval_task(SampleTask t) { return t == SampleTask::RagDialog || t == SampleTask::RagDialogExplanation; }

const char* unit_name(SampleUnit u) { return u == SampleUnit::Turn ? "turn" : "session"; }

const char* missing_policy_name(MissingPolicy p) {
  switch (p) {
    case MissingPolicy::SkipSection: return "skip_section";
    case MissingPolicy::Placeholder: return "placeholder";
    case MissingPolicy::DropSample: return "drop_sample";
  }
  return "skip_section";
}

void validate_sample_options(const SampleOptions& o) {
  CotFormat f = default_cot_format(o.lang);
  apply_format_overrides(f, o.markers);
  if (o.max_seq_len < 16) throw Error("data.max_seq_len: " + expected_found("at least 16", std::to_string(o.max_seq_len)));
  if (!(o.prompt_loss_weight >= 0.0f && o.prompt_loss_weight <= 1.0f))
    throw Error("data.prompt_loss_weight: " + expected_found("a number in [0, 1]", std::to_string(o.prompt_loss_weight)));
  for (const auto& [k, v] : o.section_weights) {
    if (k != "observation" && k != "reasoning" && k != "response")
      throw Error("data.section_weights: unknown section '" + k + "' (valid: observation, reasoning, response)");
    if (!(v >= 0.0)) throw Error("data.section_weights." + k + ": " + expected_found("a weight >= 0", std::to_string(v)));
  }
  for (const auto& c : o.context) {
    if (!f.context_labels.count(c))
      throw Error("data.context: unknown field '" + c + "' (valid: background, guide, topic, psychotherapy, theme)");
  }
  if (o.task == SampleTask::Mix) {
    if (o.mix_tasks.empty()) throw Error("data.mix_tasks: empty; task mix needs at least one task");
    for (SampleTask t : o.mix_tasks) {
      if (t == SampleTask::Mix) throw Error("data.mix_tasks: 'mix' cannot be mixed into itself");
      if (is_retrieval_task(t))
        throw Error(std::string("data.mix_tasks: '") + task_name(t) + "' cannot be mixed (use it as data.task)");
    }
    if (!o.instruction.empty())
      throw Error("data.instruction: cannot be used with task mix (each mixed task keeps its own instruction)");
  }
  if (is_retrieval_task(o.task)) validate_retrieval_options(o);
}

std::string chat_template_folder(const Recipe& r) {
  std::string where = r.model.tokenizer.empty() ? r.model.path : r.model.tokenizer;
  if (where.empty()) return ".";
  if (path_exists(where + "/.")) return where;  // a folder
  const size_t slash = where.find_last_of('/');
  return slash == std::string::npos ? "." : where.substr(0, slash);
}

SampleOptions sample_options_from_recipe(const Recipe& r) {
  SampleOptions o;
  const DataSection& d = r.data;
  o.lang = d.lang;
  o.task = parse_task(d.task, "data.task");
  o.unit = d.unit == DataUnit::Session ? SampleUnit::Session : SampleUnit::Turn;
  JinjaChatOptions jinja_options;
  jinja_options.reasoning_slot = d.reasoning_slot == ReasoningSlot::Think;
  if (jinja_options.reasoning_slot && r.model.chat_template != "auto")
    throw Error("data.reasoning_slot: think needs model.chat_template auto (a template with a reasoning slot, "
                "e.g. Qwen3's <think>); the built-in formats have none");
  o.chat_template = resolve_chat_format(r.model.chat_template, chat_template_folder(r), jinja_options,
                                        "model.chat_template");
  o.max_seq_len = d.max_seq_len;
  o.prompt_loss_weight = static_cast<float>(d.prompt_loss_weight);
  o.section_weights = d.section_weights;
  switch (d.missing_annotation) {
    case MissingAnnotation::SkipSection: o.missing = MissingPolicy::SkipSection; break;
    case MissingAnnotation::Placeholder: o.missing = MissingPolicy::Placeholder; break;
    case MissingAnnotation::DropSample: o.missing = MissingPolicy::DropSample; break;
  }
  o.context = d.context;
  o.instruction = d.instruction;
  o.markers = d.markers;
  o.mix_tasks.clear();
  for (const auto& t : d.mix_tasks) o.mix_tasks.push_back(parse_task(t, "data.mix_tasks"));
  o.seed = static_cast<uint64_t>(r.seed);
  retrieval_options_from_recipe(r, o.retrieval);
  validate_sample_options(o);
  return o;
}

}  // namespace psy
