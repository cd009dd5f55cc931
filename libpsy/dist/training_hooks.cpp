#include "libpsy/dist/training_hooks.h"

#include "libpsy/dist/gradient_buckets.h"

namespace psy::dist {

void attach_process_group(const ProcessGroup& group, TrainingSetup& setup) {
  setup.rank = group.rank();
  setup.world_size = group.world_size();
  if (group.world_size() <= 1) return;
  setup.all_reduce_sum = [group](double v) { return group.all_reduce_sum(v); };
  setup.all_reduce_gradients = [group](const std::vector<torch::Tensor>& ps) { all_reduce_gradients(group, ps); };
  setup.barrier = [group]() { group.barrier(); };
}

}  // namespace psy::dist
