// Which of an epoch's micro-batches each data-parallel rank runs. LibTorch-free.
//
// Every rank builds the same ordered list of the epoch's micro-batches (same seed, same epoch).
// An optimiser step consumes world_size * grad_accum consecutive micro-batches of that list
// (the global batch); rank r runs the ones at offsets r, r + world_size, ... of the step. So the
// shards are disjoint, cover the epoch exactly once, and every rank takes the same number of
// optimiser steps. In the last step of an epoch a rank may get fewer than grad_accum
// micro-batches, or none: it still joins the step's collectives (with zero token weight and
// zero gradients). Because the loss is divided by the token weight all-reduced over ranks, a
// data-parallel step equals one process running the same micro-batches with
// grad_accum * world_size accumulation steps.
#pragma once
#include <cstddef>
#include <vector>

namespace psy::dist {

// Optimiser steps per epoch: ceil(num_batches / (world_size * grad_accum)).
std::size_t steps_per_epoch(std::size_t num_batches, int world_size, int grad_accum);

// For each optimiser step of the epoch, the indices (into the epoch's ordered list) of the
// micro-batches `rank` runs. Throws psy::Error on rank/world/accum out of range.
std::vector<std::vector<std::size_t>> shard_epoch(std::size_t num_batches, int rank, int world_size, int grad_accum);

}  // namespace psy::dist
