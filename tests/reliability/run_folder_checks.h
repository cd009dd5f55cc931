// What must hold in a run folder at any moment, even right after `kill -9` (the reliability
// driver checks it after every kill and after every resume). Each function returns the problems
// it found, one readable line each; empty means the folder is sound.
#pragma once
#include <string>
#include <vector>

namespace psy::reliability {

// A `psy train` (LoRA) run folder:
// - every checkpoints/step-N folder is a complete, loadable checkpoint: trainer_state.json parses
//   and says step N; adapter/adapter_config.json parses; adapter/adapter_model.safetensors and
//   optimizer.safetensors are whole safetensors files (headers valid, every byte accounted for)
//   holding every trained parameter and its AdamW moments (exp_avg.i, exp_avg_sq.i) and rng.cpu;
//   hidden .tmp-step-N folders (a save in progress) are allowed;
// - log.jsonl has only complete lines, each one JSON with increasing "step";
// - adapter/ (the final adapter), when present, is whole: a config that parses and tensors that
//   read back; manifest.json parses.
std::vector<std::string> check_train_folder(const std::string& run_dir);

// A `psy eval` output folder: predictions.jsonl holds only complete JSON lines (no torn line),
// each with an "id"; metrics.json and eval_settings.json parse when present.
std::vector<std::string> check_eval_folder(const std::string& out_dir);

// Temporary files and folders (NAME.tmp.PID, .tmp-step-N) under `dir`: none may remain once a run
// has completed.
std::vector<std::string> temporary_leftovers(const std::string& dir);

// The names of the tensors of a whole safetensors file; throws psy::Error when it is not whole.
std::vector<std::string> safetensors_names(const std::string& path);

}  // namespace psy::reliability
