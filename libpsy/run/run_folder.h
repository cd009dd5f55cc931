// The layout of a run folder, written down once. `psy train` and `psy eval` write it; `psy eval`,
// `generate`, `chat`, `merge` and `report` read it:
//   RUN/recipe.yaml            the resolved recipe (psy train)
//   RUN/manifest.json          data, model and code fingerprints (psy train)
//   RUN/log.jsonl              one JSON line per logged step ("step", "loss", "eval_loss", ...)
//   RUN/tensorboard/           TensorBoard event files (train.tensorboard)
//   RUN/checkpoints/step-N/    a checkpoint: adapter/ (LoRA) or model/ (full), optimizer.safetensors,
//                              trainer_state.json (written last: a folder without it is incomplete)
//   RUN/adapter/               the final LoRA adapter (PEFT format), or
//   RUN/model/                 the final full model (Hugging Face format)
//   RUN/predictions.jsonl, RUN/metrics.json, RUN/eval_settings.json   psy eval's outputs
//   RUN/.psy.lock              the write lock (FolderLock): one writing process per run
// No LibTorch here.
#pragma once
#include <string>
#include <vector>

#include "libpsy/core/file_lock.h"

namespace psy {

// The files inside one checkpoint folder (and the final adapter/ or model/ in the run folder).
struct CheckpointFiles {
  static constexpr const char* adapter = "adapter";
  static constexpr const char* model = "model";
  static constexpr const char* trainer_state = "trainer_state.json";
  static constexpr const char* optimizer = "optimizer.safetensors";
  static constexpr const char* adapter_config = "adapter_config.json";  // marks a PEFT adapter folder
  static constexpr const char* adapter_weights = "adapter_model.safetensors";
  static constexpr const char* model_config = "config.json";            // marks a Hugging Face model folder
};

// "step-N"; and back: N, or -1 when `name` is not "step-" followed by digits only.
std::string checkpoint_name(long step);
long checkpoint_step(const std::string& name);
// The hidden folder a checkpoint is written into before it is renamed into place (".tmp-step-N").
std::string checkpoint_temp_name(long step);
bool is_checkpoint_temp_name(const std::string& name);

// True when `dir` is a complete checkpoint (it holds trainer_state.json).
bool is_complete_checkpoint(const std::string& dir);

class RunFolder {
 public:
  explicit RunFolder(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  std::string recipe_path() const { return file("recipe.yaml"); }
  std::string manifest_path() const { return file("manifest.json"); }
  std::string log_path() const { return file("log.jsonl"); }
  std::string tensorboard_dir() const { return file("tensorboard"); }
  std::string checkpoints_dir() const { return file("checkpoints"); }
  std::string checkpoint_dir(long step) const { return checkpoints_dir() + "/" + checkpoint_name(step); }
  std::string adapter_dir() const { return file(CheckpointFiles::adapter); }
  std::string model_dir() const { return file(CheckpointFiles::model); }
  std::string predictions_path() const { return file("predictions.jsonl"); }
  std::string metrics_path() const { return file("metrics.json"); }
  std::string eval_settings_path() const { return file("eval_settings.json"); }

  // Names (relative to the run folder) of everything psy train and psy eval write there.
  static const std::vector<std::string>& output_names();

  // Steps of the complete checkpoints (with trainer_state.json), ascending; and of the
  // step-N folders without it (a save or a prune that a kill interrupted).
  std::vector<long> checkpoint_steps() const;
  std::vector<long> incomplete_checkpoint_steps() const;
  // True when the folder holds a previous run's results (a complete checkpoint, adapter/ or model/).
  bool holds_trained_weights() const;

  // Takes the run's exclusive write lock (creating the folder): a second process gets one clear
  // line, psy::Error (exit 1) naming the folder and the holder ("pid N: psy train").
  FolderLock lock(const std::string& what) const { return FolderLock(dir_, what); }

 private:
  std::string file(const char* name) const { return dir_ + "/" + name; }
  std::string dir_;
};

// True when `dir` looks like a run folder psy wrote: recipe.yaml, log.jsonl, checkpoints/ or the
// lock file psy train, eval and judge leave there.
bool is_run_folder(const std::string& dir);

// The run folder that `path` is or lies in (a checkpoint, adapter/, model/ or a file of a run),
// looking at `path` and its parents up to three levels; "" when none.
std::string enclosing_run_folder(const std::string& path);

}  // namespace psy
