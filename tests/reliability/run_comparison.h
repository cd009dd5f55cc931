// Does a run that was killed and resumed end where the uninterrupted run ended? Each function
// returns the differences, one line each (empty: equal).
//
// Training: the final adapter (both files byte for byte), every kept checkpoint (trainer_state.json
// as JSON, adapter and optimizer.safetensors byte for byte: weights, AdamW moments, RNG state) and
// log.jsonl's numbers (step, epoch, loss, lr, grad_norm, tokens, eval_loss, skipped) exactly. Only
// wall-clock and memory figures (elapsed_s, tokens_per_s, rss_mb, peak_rss_mb, cuda_*) and
// manifest.json's resumed_from may differ.
// Evaluation: predictions.jsonl byte for byte, eval_settings.json, and metrics.json except its
// "resumed" count (how many predictions an earlier process had made).
#pragma once
#include <string>
#include <vector>

namespace psy::reliability {

std::vector<std::string> compare_train_runs(const std::string& reference_dir, const std::string& resumed_dir);
std::vector<std::string> compare_eval_runs(const std::string& reference_dir, const std::string& resumed_dir);

}  // namespace psy::reliability
