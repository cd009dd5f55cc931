// Inspecting and exporting tokenised samples: JSON Lines in psy's own format (segments, ids,
// weights), Hugging Face-style `messages`, or OpenAI chat fine-tuning format; and a
// human-readable view with the target tokens highlighted.
#pragma once
#include <ostream>
#include <string>

#include "libpsy/data/tokenized_sample.h"

namespace psy {

enum class ExportFormat {
  // {session_id, turn_id, task, [split], [retrieved], segments: [{role, section, text, weight, target}], input_ids,
  //  loss_weights}; split when the sample's side is known, retrieved (dialog ids, best first) for rag tasks
  Psy,
  Messages,  // {session_id, turn_id, task, messages: [{role, content}]}
  OpenAI,    // {messages: [{role, content[, weight]}]}: assistant messages weigh 1 when trained on, else 0
};
ExportFormat parse_export_format(const std::string& name);  // psy | messages | openai

// One compact JSON object (no newline). Weights are written rounded to 6 decimals, so the same
// samples always give the same bytes.
std::string sample_to_json(const TokenizedSample& sample, ExportFormat format);

// Writes one line per sample.
void write_samples_jsonl(std::ostream& out, const std::vector<TokenizedSample>& samples, ExportFormat format);

// The sample's text with target segments highlighted: ANSI colour when `color`, otherwise
// wrapped in [[ ]]; then one line per segment with its role, section, tokens and weight.
std::string show_sample(const TokenizedSample& sample, bool color);

}  // namespace psy
