// psy's own training loop (libpsy/train/training_loop.h) run data-parallel through the
// TrainingSetup hooks, on a tiny random decoder with LoRA and uneven sequences.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "libpsy/dist/process_group.h"

namespace psy::test {

// Trains 3 optimizer steps with micro-batch 2 and `grad_accum` per rank; returns the LoRA
// tensors after training followed by a 1-D tensor of the per-step losses.
std::vector<torch::Tensor> train_with_loop(const dist::ProcessGroup& group, int grad_accum);

}  // namespace psy::test
