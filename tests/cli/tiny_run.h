// Shared set-up of the issue-18 CLI tests: a tokenizer trained in-process on the bundled sample,
// a tiny random Llama (psy init-model) and a two-step training recipe, each made once.
#pragma once
#include <string>

namespace psy::test {

// Folder of the test tokenizer (tokenizer.model + tokenizer_config.json).
const std::string& tiny_tokenizer_dir();
// Folder of the tiny model (config.json, model.safetensors, tokenizer files).
const std::string& tiny_model_dir();
// "train|eval RECIPE model.path=... data.path=[...] output=OUT" + extra: a two-step LoRA run into `out`.
std::string tiny_run_args(const std::string& command, const std::string& out, const std::string& extra = "");
// The bundled English sample (absolute path).
std::string sample_data();
// Files under `dir` (recursively) whose name contains ".tmp", for "no leftover files" checks.
std::string temporary_files_under(const std::string& dir);
// Number of lines of `text` (an empty text has none).
size_t line_count(const std::string& text);

}  // namespace psy::test
