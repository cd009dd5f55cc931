// Retrieval-augmented samples (tasks rag_dialog and rag_dialog_explanation, the paper's Task 4):
// what a therapist turn's query is, what a training session is indexed by, what a retrieved
// case shows in the prompt, and the retrieved cases the sample builder is given. No LibTorch:
// the embeddings and the index live in libpsy/retrieval.
//
// Query of therapist turn j: the session's background, then the last `query_turns` turns before
// j (their contents, one per line). Document of a training session: its index_fields, one per
// line. A case in the prompt: "[n]" and its `fields` with labels (topic, guide, summary, ...);
// for rag_dialog_explanation also its turn-level explanations (each therapist turn with
// reasoning: "Reasoning: r" and "Response: t", the target format). The cases come after the
// instruction and context in the system message, under "Similar cases:" ("相似案例：").
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libpsy/data/cot_format.h"
#include "libpsy/data/sample_options.h"
#include "libpsy/data/session.h"

namespace psy {

// The sessions the index holds (the training split) and, per query session (the list given to
// build_samples / build_eval_prompts, same order) and per turn index, the ranked corpus indices
// retrieved for that turn (empty for client turns).
struct RetrievedCases {
  std::shared_ptr<const std::vector<Session>> corpus;
  std::vector<std::vector<std::vector<uint32_t>>> ranked;
};

// The fields a case or an index may use: topic guide summary background psychotherapy theme
// reasoning (the session-level reasoning).
const std::vector<std::string>& retrieval_field_names();
const std::string& retrieval_field(const Session& s, const std::string& name);

// The task whose target format a retrieval task uses: rag_dialog -> dialog,
// rag_dialog_explanation -> reasoning_dialog; others unchanged.
SampleTask rendering_task(SampleTask task);

std::string retrieval_query(const Session& s, size_t turn_index, size_t query_turns);
std::string retrieval_document(const Session& s, const std::vector<std::string>& index_fields);

// "\n\nSimilar cases:" (or the Chinese header), the text that opens the retrieved block.
std::string retrieved_cases_header(const std::string& lang);
// One case: "\n[number] Topic: ...\nGuide: ...\nSummary: ..." (+ explanations).
std::string retrieved_case_text(const Session& c, size_t number, const RetrievalOptions& options,
                                const CotFormat& format, bool explanations);

// The default instructions of the rag tasks for `lang` (added by sample_format).
void add_retrieval_instructions(CotFormat& format);

// recipe.data.retrieval_* -> options.retrieval.
void retrieval_options_from_recipe(const Recipe& recipe, RetrievalOptions& out);
// Field names known, unit turn, encoder given. Throws psy::Error naming the recipe key.
void validate_retrieval_options(const SampleOptions& options);

}  // namespace psy
