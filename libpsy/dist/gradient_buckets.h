// Gradient all-reduce for data-parallel training, coalesced into flat buckets so a model with
// hundreds of LoRA tensors does a handful of collectives instead of hundreds.
#pragma once
#include <torch/torch.h>

#include <cstddef>
#include <vector>

#include "libpsy/dist/process_group.h"

namespace psy::dist {

constexpr std::size_t kDefaultBucketBytes = 25u << 20;  // 25 MiB, as PyTorch's DDP

// Consecutive runs of parameters (in the given order) that share dtype and device, cut so a
// run holds at most bucket_bytes (a single larger tensor gets a bucket of its own). The plan
// depends only on the parameters' shapes, so it is identical on every rank.
std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<torch::Tensor>& params,
                                                   std::size_t bucket_bytes = kDefaultBucketBytes);

// Sums the gradients of `params` over the group's ranks, in place, one collective per bucket.
// A parameter whose gradient is undefined (e.g. a rank with no micro-batch in this step)
// contributes zeros and receives the summed gradient. Does nothing in a group of one.
// The loss must already be divided by the token weight summed over ranks (see train_step
// docs): the gradients are summed, not averaged.
void all_reduce_gradients(const ProcessGroup& group, const std::vector<torch::Tensor>& params,
                          std::size_t bucket_bytes = kDefaultBucketBytes);

// Copies rank `root`'s values of `params` to every rank (e.g. the initial LoRA weights), in
// place and without recording autograd history.
void broadcast_parameters(const ProcessGroup& group, const std::vector<torch::Tensor>& params, int root = 0,
                          std::size_t bucket_bytes = kDefaultBucketBytes);

}  // namespace psy::dist
