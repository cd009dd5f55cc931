#include "libpsy/dist/epoch_shard.h"

#include <string>

#include "libpsy/core/error.h"

namespace psy::dist {

namespace {
void check(int rank, int world_size, int grad_accum) {
  if (world_size < 1) throw Error("data parallel: " + expected_found("world size >= 1", std::to_string(world_size)));
  if (rank < 0 || rank >= world_size)
    throw Error("data parallel: " + expected_found("rank in 0.." + std::to_string(world_size - 1), std::to_string(rank)));
  if (grad_accum < 1) throw Error("data parallel: " + expected_found("grad_accum >= 1", std::to_string(grad_accum)));
}
}  // namespace

std::size_t steps_per_epoch(std::size_t num_batches, int world_size, int grad_accum) {
  check(0, world_size, grad_accum);
  const std::size_t global = static_cast<std::size_t>(world_size) * static_cast<std::size_t>(grad_accum);
  return (num_batches + global - 1) / global;
}

std::vector<std::vector<std::size_t>> shard_epoch(std::size_t num_batches, int rank, int world_size, int grad_accum) {
  check(rank, world_size, grad_accum);
  const std::size_t world = static_cast<std::size_t>(world_size);
  const std::size_t global = world * static_cast<std::size_t>(grad_accum);
  std::vector<std::vector<std::size_t>> steps(steps_per_epoch(num_batches, world_size, grad_accum));
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const std::size_t begin = s * global;
    const std::size_t end = begin + global < num_batches ? begin + global : num_batches;
    for (std::size_t i = begin + static_cast<std::size_t>(rank); i < end; i += world) steps[s].push_back(i);
  }
  return steps;
}

}  // namespace psy::dist
