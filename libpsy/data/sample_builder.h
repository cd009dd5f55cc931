// Chain-of-thought samples from Psy-Insight sessions (the paper's Eq. 1-2 and its ablations),
// rendered with a chat template and tokenised with per-token loss weights.
//
// A session becomes a conversation: the system message holds the task instruction and the
// session context (background, ...); consecutive client turns form one user message;
// consecutive therapist turns form one assistant message. A therapist turn's content is, by
// task: dialog: the response; reasoning_dialog: "Reasoning: r\nResponse: t";
// observation_reasoning_dialog: "Observation: o\nReasoning: r\nResponse: t", where o is the
// observation of the client turns since the previous therapist turn (joined with a space; no
// observation section when there are none, e.g. a session opening with the therapist).
// History turns carry the same sections as the target (Eq. 1). When a session opens with the
// therapist, the first user message is empty (templates then show just the system text).
//
// Units: turn = one sample per therapist turn (history = prompt, the turn = target);
// session = one sequence per session, every therapist turn a target.
// Truncation to max_seq_len: turn unit drops the oldest (user, assistant) history pairs first,
// never the system message, the last client message or the target; a sample that still does
// not fit is dropped. Session unit splits the conversation into consecutive windows that fit
// (each with the system message); a single exchange too long for any window is dropped.
// Label tasks (mix only): emotion (per client turn with labels), strategy (per therapist turn
// with labels), psychotherapy and topic (per session) -- prompt = instruction + context + the
// transcript up to that turn (oldest lines dropped to fit), target = the labels; the same in
// both units.
// Mix: each therapist turn (turn unit) or session (session unit) uses one dialog task drawn
// from mix_tasks by a hash of (seed, dialog_id, turn id) -- independent of order and subsets --
// and every label task in mix_tasks adds its samples.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "libpsy/data/cot_format.h"
#include "libpsy/data/retrieval_prompt.h"
#include "libpsy/data/sample_options.h"
#include "libpsy/data/session.h"
#include "libpsy/data/tokenized_sample.h"
#include "libpsy/text/tokenizer.h"

namespace psy {

struct SampleStats {
  size_t sessions = 0;
  size_t samples = 0;
  size_t tokens = 0;              // sum of sample lengths
  size_t weighted_tokens = 0;     // tokens with weight > 0
  size_t target_tokens = 0;       // tokens in target segments
  size_t max_tokens = 0;          // longest sample
  size_t truncated = 0;           // samples that lost history (or sessions split into windows)
  size_t dropped_too_long = 0;    // samples (or session exchanges) that could not fit
  size_t dropped_missing = 0;     // targets dropped by the drop_sample policy
  size_t dropped_empty = 0;       // therapist turns with empty content (never targets)
  size_t missing_observation = 0; // target turns whose observation was missing
  size_t missing_reasoning = 0;   // target turns whose reasoning was missing
  size_t placeholders = 0;        // target sections written as placeholders
  std::map<std::string, size_t> samples_per_task;
};

struct SampleSet {
  std::vector<TokenizedSample> samples;
  SampleStats stats;
};

// Builds every sample of `sessions` (already split; pass the train sessions). Deterministic for
// the same inputs, options and tokenizer. Throws psy::Error for invalid options.
//
// Rag tasks (rag_dialog, rag_dialog_explanation) need `retrieved`: the cases retrieved for every
// turn of `sessions` (same order; libpsy/retrieval makes them). The cases' text is cut to
// options.retrieval.max_tokens; a sample longer than max_seq_len drops retrieved cases (lowest
// ranked first) before any history. Throws psy::Error when a rag task has no (or mismatched) cases.
SampleSet build_samples(const std::vector<Session>& sessions, const SampleOptions& options,
                        const Tokenizer& tokenizer, const RetrievedCases* retrieved = nullptr);

// The gold chain of thought of a therapist turn (what the sample's target holds).
struct CotSections {
  std::string observation, reasoning, response;
};

// What evaluation feeds the model for one therapist turn: the prompt only, i.e. everything up to
// where the assistant's generation starts (same rendering and tokens as training), and the gold.
struct EvalPrompt {
  std::string session_id, turn_id, task;
  std::vector<int32_t> input_ids;
  std::vector<SampleSegment> segments;  // all prompt (target = false)
  CotSections gold;
  int dropped_history = 0;
  std::vector<std::string> retrieved;   // rag tasks: dialog ids of the cases in the prompt
};

// One prompt per therapist turn with non-empty content of `sessions` (pass the test split),
// in order. The task is options.task (for mix: the same seeded dialog task as training would
// draw). History turns carry gold annotations as in training. Prompts longer than
// max_prompt_tokens (0 = options.max_seq_len) lose their oldest history pairs; a prompt that still
// does not fit is left out and counted in stats->dropped_too_long.
std::vector<EvalPrompt> build_eval_prompts(const std::vector<Session>& sessions, const SampleOptions& options,
                                           const Tokenizer& tokenizer, int max_prompt_tokens = 0,
                                           SampleStats* stats = nullptr, const RetrievedCases* retrieved = nullptr);

// The format (markers, instructions) the options use; parse generated text with
// parse_cot(text, sample_format(options).markers).
CotFormat sample_format(const SampleOptions& options);

}  // namespace psy
