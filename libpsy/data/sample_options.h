// What a set of training samples looks like: task, unit, chat template, length limit, loss
// weights and missing-annotation policy (from a recipe's data section, model.chat_template and
// seed).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "libpsy/text/chat_format.h"

namespace psy {

struct Recipe;

enum class SampleTask {
  Dialog,                      // utterances only (Table 5 "SFT dialog")
  ReasoningDialog,             // reasoning, then the response
  ObservationReasoningDialog,  // observation, reasoning, response (the paper's Eq. 1-2)
  Mix,                         // seeded mixture of the tasks in mix_tasks
  Emotion,                     // label tasks (used inside mix)
  Strategy,
  Psychotherapy,
  Topic,
  RagDialog,                   // retrieved similar cases in the prompt, then the response (the paper's Task 4)
  RagDialogExplanation,        // retrieved cases with their turn-level explanations; reasoning, then the response
};
const char* task_name(SampleTask task);
// Throws psy::Error naming `key` and the valid names.
SampleTask parse_task(const std::string& name, const std::string& key = "data.task");
bool is_dialog_task(SampleTask task);  // Dialog, ReasoningDialog, ObservationReasoningDialog, the two rag tasks
bool is_retrieval_task(SampleTask task);  // RagDialog, RagDialogExplanation

enum class SampleUnit {
  Turn,     // one sample per therapist turn, with its history (the paper's definition)
  Session,  // one sequence per session; every therapist turn in it is a target
};
const char* unit_name(SampleUnit unit);

// What happens when a target turn lacks an annotation its task needs.
enum class MissingPolicy {
  SkipSection,  // leave the section out (default)
  Placeholder,  // write the marker followed by the format's placeholder text
  DropSample,   // drop the sample (turn unit) or stop training on that turn (session unit)
};
const char* missing_policy_name(MissingPolicy p);

// Retrieval for the rag tasks (recipe keys data.retrieval_*; see libpsy/data/retrieval_prompt.h).
struct RetrievalOptions {
  size_t k = 3;                                                     // cases per prompt
  std::vector<std::string> fields = {"topic", "guide", "summary"};  // what each case shows
  std::vector<std::string> index_fields = {"background", "summary"};  // what a training session is indexed by
  size_t query_turns = 4;     // recent turns (before the target) in the query, after the background
  size_t max_tokens = 1024;   // token budget of the retrieved text in one prompt
  std::string encoder;        // sentence encoder folder (sentence-transformers layout)
};

struct SampleOptions {
  std::string lang = "en";
  SampleTask task = SampleTask::ObservationReasoningDialog;
  SampleUnit unit = SampleUnit::Turn;
  ChatFormat chat_template = ChatTemplate::Mistral;  // a built-in, or the model's own (model.chat_template auto)
  int max_seq_len = 4096;
  float prompt_loss_weight = 0.0f;
  std::map<std::string, double> section_weights = {{"observation", 1.0}, {"reasoning", 1.0}, {"response", 1.0}};
  MissingPolicy missing = MissingPolicy::SkipSection;
  std::vector<std::string> context = {"background"};  // session fields in the input
  std::string instruction;                             // "" = the language's default
  std::map<std::string, std::string> markers;          // overrides (cot_format.h)
  std::vector<SampleTask> mix_tasks = {SampleTask::Dialog, SampleTask::ReasoningDialog,
                                       SampleTask::ObservationReasoningDialog, SampleTask::Emotion,
                                       SampleTask::Strategy, SampleTask::Psychotherapy, SampleTask::Topic};
  uint64_t seed = 66;
  RetrievalOptions retrieval;
};

// From recipe.data (+ model.chat_template, seed). Throws psy::Error naming the recipe key of any
// invalid value.
SampleOptions sample_options_from_recipe(const Recipe& recipe);

// The folder whose chat template `model.chat_template: auto` uses: model.tokenizer (or its
// folder when it names a file), else model.path.
std::string chat_template_folder(const Recipe& recipe);

// Validates options (the same checks, for options built in code).
void validate_sample_options(const SampleOptions& options);

}  // namespace psy
