// A training run, shaped like torchtune's recipe class: set-up (the constructor), steps, finish.
// It owns the policy `psy train` follows, in the order a reader meets it:
//   set-up   devices and precision, the process group (data parallel), the run folder (its lock,
//            stale files, --resume or --overwrite), the recipe's dataset (RecipeDataset) and its
//            samples, the model (dtype, NF4, layer split, LoRA or full), recipe.yaml and
//            manifest.json, and the training loop's settings;
//   step()   one optimizer step (TrainingLoop, libpsy/train/training_loop.h);
//   finish() the last checkpoint and the final adapter/ or model/.
// trainers/cmd_train.cpp parses arguments and prints; tests and benchmarks can build a run here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libpsy/data/sample_builder.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/train/training_loop.h"

namespace psy {

// TrainRunOptions::resume for "the recipe's run folder's latest checkpoint".
inline constexpr const char* kResumeLatest = "<latest>";

struct TrainRunOptions {
  std::string resume;       // "": a fresh run; kResumeLatest; or a run folder or checkpoint to continue from
  bool overwrite = false;   // start afresh in a run folder that holds a run (its outputs are removed)
  bool quiet = false;       // no progress or notes on stderr
  int threads = -1;         // CPU threads; -1 = the recipe's threads
  std::string psy_version;  // recorded in manifest.json
};

// What set-up found: psy train's summary line.
struct TrainRunFacts {
  std::string run_dir;
  size_t train_samples = 0, eval_samples = 0;
  int64_t trainable_parameters = 0, total_parameters = 0;
  std::string compute_dtype, device;
  int threads = 1;
  std::string resumed_from;  // the checkpoint, or ""
  bool full = false;         // train.mode full (the run ends with model/, else adapter/)
  bool writer = true;        // rank 0 (the only rank that prints and writes)
};

struct TrainRunParts;
class TrainRun {
 public:
  // Set-up. Throws psy::Error naming the recipe key, file or folder at fault.
  TrainRun(const Recipe& recipe, const TrainRunOptions& options);
  ~TrainRun();
  TrainRun(const TrainRun&) = delete;
  TrainRun& operator=(const TrainRun&) = delete;

  const TrainRunFacts& facts() const;
  bool done();
  void step();
  TrainingResult finish();

 private:
  std::unique_ptr<TrainRunParts> parts_;
};

// The samples as the loop's sequences (ids and per-token loss weights, as built), with labels
// such as "dialog 000708 turn 292-1 (dialog)" for messages when `labels` is given.
std::vector<TrainSequence> to_sequences(const std::vector<TokenizedSample>& samples, std::vector<std::string>* labels);
TrainingData training_data(const SampleSet& train, const SampleSet& held_out);

}  // namespace psy
