// The training loop: micro-batches grouped into optimizer steps, the step-wide PLW loss
// denominator, clipping, AdamW, the schedule, periodic held-out loss with optional early stop,
// JSONL logs, progress on stderr, checkpoints, resumption equal to an uninterrupted run, and a
// clean stop on SIGINT/SIGTERM.
//
// Data order: epoch e's micro-batches come from plan_epoch(lengths, micro_batch,
// group_by_length, seed, e); micro-batches are consumed as one stream (epoch after epoch), and
// optimizer step s takes micro-batches [s*grad_accum, (s+1)*grad_accum) of it. Total steps =
// max_steps when > 0, else ceil(epochs * micro_batches_per_epoch / grad_accum). The data
// position saved in a checkpoint is the count of micro-batches consumed.
//
// Files in the run folder: log.jsonl (one object per logged step: step, epoch, loss, lr,
// grad_norm, tokens, tokens_per_s, rss_mb, peak_rss_mb; and eval_loss on evaluation steps),
// checkpoints/step-N/ (training_checkpoint.h), and at the end adapter/ (LoRA, PEFT format) or
// model/ (full fine-tuning, Hugging Face format).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "libpsy/nn/decoder.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/train/collate.h"
#include "libpsy/train/weighted_loss.h"

namespace psy {

struct TrainingData {
  std::vector<TrainSequence> train, eval;
  std::vector<std::string> train_labels;  // per train sequence, e.g. "dialog 000708 turn 292-1" (messages)
};

struct TrainingSetup {
  TrainSection train;               // the recipe's train section
  uint64_t seed = 66;
  int64_t pad_id = 0;
  int max_seq_len = 4096;           // pack length with train.packing
  std::string run_dir;              // "" = write nothing (tests)
  std::string base_model_path;      // recorded in adapter_config.json
  std::string resume_from;          // checkpoint folder, or "" for a fresh run
  std::vector<std::string> copy_to_final_model;  // files copied into model/ in full mode (tokenizer)
  int progress_tty = -1;            // -1 detect, 0 plain lines, 1 bar
  bool quiet = false;               // no progress output at all
  std::function<void(long step)> after_step;  // called after each optimizer step (tests, benchmarks)
  // Data parallel (libpsy/dist, docs/distributed.md): optimizer step s takes micro-batches
  // [s*A*W, (s+1)*A*W) of the stream (A = grad_accum, W = world_size) and this rank the ones at
  // offsets rank, rank + W, ...; the hooks sum a number / the gradients over ranks and wait for
  // all ranks. Only rank 0 writes logs, checkpoints and the final adapter or model.
  int rank = 0, world_size = 1;
  std::function<double(double)> all_reduce_sum;
  std::function<void(const std::vector<torch::Tensor>&)> all_reduce_gradients;
  std::function<void()> barrier;
};

struct TrainingResult {
  long steps = 0;                   // optimizer steps taken in total (including before a resume)
  long total_steps = 0;
  double first_loss = 0, last_loss = 0;
  double last_eval_loss = -1;       // < 0 when never evaluated
  double tokens_per_s = 0;          // over this process's training time
  bool early_stopped = false;
  bool interrupted = false;         // stopped by SIGINT/SIGTERM (a checkpoint was saved)
  std::string last_checkpoint;
  std::vector<double> losses;       // per step of this process
};

// Trains `decoder` in place: LoRA mode expects adapters already injected (nn/lora.h); full mode
// makes every weight trainable. Throws psy::Error (exit 1) on a NaN/inf loss under
// nan_policy: stop, naming the step and samples.
// Throws psy::Error (exit 2) when fp16 is asked for (train.precision or model.dtype) on a CPU
// device; psy train calls it before loading the model, run_training again before the first step.
void check_fp16_device(WeightDtype precision, WeightDtype model_dtype, const torch::Device& device);

// The loop in three parts, as a reader follows it: set-up (the constructor: trainable
// parameters, AdamW, packing and the batch plan, the schedule, a resumed checkpoint, log files),
// step() (one optimizer step with its log line, evaluation, checkpoint and early stop), and
// finish() (the last checkpoint and the final adapter/ or model/). run_training is
//   TrainingLoop loop(decoder, data, setup); while (!loop.done()) loop.step(); return loop.finish();
struct TrainingLoopState;
class TrainingLoop {
 public:
  TrainingLoop(DecoderImpl& decoder, const TrainingData& data, const TrainingSetup& setup);
  ~TrainingLoop();
  TrainingLoop(const TrainingLoop&) = delete;
  TrainingLoop& operator=(const TrainingLoop&) = delete;

  // All steps taken, or stopped early (early stop, or SIGINT/SIGTERM seen by step()).
  bool done() const;
  long total_steps() const;
  void step();
  TrainingResult finish();

 private:
  std::unique_ptr<TrainingLoopState> st_;
};

TrainingResult run_training(DecoderImpl& decoder, const TrainingData& data, const TrainingSetup& setup);

// Pooled held-out loss: sum(w*CE) / sum(w) over all of `seqs` (dropout off, no gradients).
double evaluation_loss(DecoderImpl& decoder, const std::vector<TrainSequence>& seqs, int micro_batch,
                       int64_t pad_id, PlwNormalization norm);

}  // namespace psy
