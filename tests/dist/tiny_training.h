// A tiny LoRA-style language model and a data-parallel training loop used by the dist tests and
// bench: frozen embedding, frozen hidden and head projections each with a trainable low-rank
// adapter, trained with prompt-loss-weighted next-token CE, AdamW and clipping (psy_train).
// Sequences have uneven lengths and weights, so per-rank token counts differ.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "libpsy/dist/process_group.h"
#include "libpsy/train/collate.h"

namespace psy::test {

struct TinyTrainConfig {
  int num_sequences = 26;
  int micro_batch = 2;
  int grad_accum = 2;     // per rank
  int vocab = 64, hidden = 32, rank = 4;
  int min_len = 3, max_len = 24;
  double lr = 1e-2;
  double max_grad_norm = 1.0;
  // Wrong on purpose (to show the test can tell): each rank divides by its own token weight
  // and the gradients are averaged over ranks.
  bool mean_of_rank_means = false;
};

std::vector<TrainSequence> tiny_sequences(const TinyTrainConfig& config);

struct TinyTrainResult {
  std::vector<torch::Tensor> params;  // the trainable tensors after training
  std::vector<double> losses;         // the global loss of every optimiser step
};

// Trains for one epoch over tiny_sequences() with this rank's shard (see epoch_shard.h).
TinyTrainResult train_tiny(const dist::ProcessGroup& group, const TinyTrainConfig& config);

}  // namespace psy::test
