// Connects psy's training loop (libpsy/train/training_loop.h) to a process group: this rank, the
// world size, and the hooks that sum the loss denominator and the gradients over ranks and wait
// for all of them. A group of one gets no hooks (the loop then runs as a single process).
#pragma once
#include "libpsy/dist/process_group.h"
#include "libpsy/train/training_loop.h"

namespace psy::dist {

void attach_process_group(const ProcessGroup& group, TrainingSetup& setup);

}  // namespace psy::dist
