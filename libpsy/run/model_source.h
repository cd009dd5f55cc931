// What a user points at with --checkpoint (psy eval, generate, chat, merge) or names as a run
// (psy report), resolved to the weights to load. PATH may be (first match wins):
//   a PEFT adapter folder            (adapter_config.json)
//   a merged Hugging Face model      (config.json)
//   a checkpoint                     RUN/checkpoints/step-N (its adapter/ or model/)
//   RUN/last, RUN/checkpoints/last   the newest complete checkpoint
//   RUN/best, RUN/checkpoints/best   the complete checkpoint with the lowest eval_loss in log.jsonl
//   RUN/step-N                       short for RUN/checkpoints/step-N
//   a run folder                     its final adapter/ or model/, else its newest complete checkpoint
// A wrong path, a checkpoint that does not exist and a half-written checkpoint (no
// trainer_state.json) are each one psy::Error line naming the path and what was found.
// No LibTorch here.
#pragma once
#include <optional>
#include <string>

namespace psy {

struct ModelSource {
  std::string adapter_dir;  // a PEFT adapter folder, or "" when model_dir holds the whole model
  std::string model_dir;    // a full (merged) Hugging Face model folder, or "" with an adapter
  std::string run_dir;      // the run folder it belongs to, "" when outside one
  long step = -1;           // the checkpoint's step; -1 for a run's final weights or a plain folder

  bool is_adapter() const { return !adapter_dir.empty(); }
  // "adapter runs/x/checkpoints/step-20/adapter (run runs/x, step 20)" for progress lines.
  std::string describe() const;
};

// Resolves PATH as above. `option` ("--checkpoint") starts every error message.
ModelSource resolve_model_source(const std::string& path, const std::string& option = "--checkpoint");

// The same, but nullopt instead of an error when PATH holds no weights (psy eval's default look
// into the recipe's output folder, which may not hold a run yet).
std::optional<ModelSource> find_model_source(const std::string& path);

// The base model an adapter was trained on: adapter_config.json's base_model_name_or_path when it
// names a local folder that exists, else "".
std::string adapter_base_model(const std::string& adapter_dir);

// The run folder PATH is or lies in (RUN, RUN/checkpoints, RUN/checkpoints/step-N[/adapter],
// RUN/adapter, RUN/model), for psy report; PATH itself when it is none of them (the caller's
// reader then says what is missing).
std::string run_folder_of(const std::string& path);

}  // namespace psy
