// Checkpoints of a training run: RUN/checkpoints/step-<N>/ holding
//   adapter/            the LoRA adapter in PEFT format (LoRA mode), or
//   model/              the full model in Hugging Face format (full mode),
//   optimizer.safetensors  AdamW moments (exp_avg.<i>, exp_avg_sq.<i>) and the CPU RNG state,
//   trainer_state.json  step, data position, loss scale, early-stop counters, parameter names.
// A checkpoint is written into a hidden temporary folder and renamed into place only when
// complete, so a crash or a full disk leaves the previous checkpoints intact; then all but the
// newest `keep_last` are removed. A failed save removes its temporary folder and throws
// psy::Error (exit 1) naming the checkpoint, the file and the OS error, pruning nothing; the
// next save also removes temporary folders a killed process left behind.
#pragma once
#include <limits>
#include <string>
#include <vector>

#include "libpsy/nn/decoder.h"
#include "libpsy/train/adamw.h"

namespace psy {

struct TrainerProgress {
  long step = 0;                    // optimizer steps taken
  long micro_batches = 0;           // micro-batches consumed (the data position)
  long tokens = 0;                  // real tokens trained on
  double loss_scale = 65536.0;      // fp16 dynamic loss scale
  long loss_scale_good_steps = 0;
  double best_eval_loss = std::numeric_limits<double>::infinity();
  int evals_without_improvement = 0;
  long skipped_steps = 0;           // NaN/inf steps skipped by policy
};

struct CheckpointContent {
  std::string mode = "lora";        // lora | full
  std::string base_model_path;      // written into adapter_config.json
  std::vector<std::string> param_names;  // in optimizer order
};

// Writes RUN_CHECKPOINTS/step-<N> atomically and prunes to keep_last (<= 0 keeps all).
// Returns the checkpoint folder.
std::string save_training_checkpoint(const std::string& checkpoints_dir, DecoderImpl& decoder,
                                     const AdamW& optimizer, const TrainerProgress& progress,
                                     const CheckpointContent& content, int keep_last);

// The newest complete checkpoint under `dir` (a run folder, its checkpoints/ folder, or a
// checkpoint itself); "" when there is none.
std::string find_latest_checkpoint(const std::string& dir);

// Restores weights (adapter or full model), optimizer moments, RNG state and progress.
// Throws psy::Error when the checkpoint does not fit (mode, parameter names or shapes).
TrainerProgress load_training_checkpoint(const std::string& checkpoint, DecoderImpl& decoder, AdamW& optimizer,
                                         const CheckpointContent& content);

}  // namespace psy
