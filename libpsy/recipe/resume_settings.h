// What a resumed training run may change. A run's meaning is its data, model, LoRA shape, seed
// and optimisation settings: changing one of them under --resume would silently mix two runs.
// Extending it (more epochs or steps) is allowed and reported; bookkeeping (threads, devices,
// logging, checkpoint cadence, the eval section) may change freely.
#pragma once
#include <string>
#include <vector>

#include "libpsy/recipe/recipe.h"

namespace psy {

struct ResumeCheck {
  std::vector<std::string> extensions;  // "train.epochs 1 -> 3"
};

// Compares the recipe a run started with (`before`, e.g. RUN/recipe.yaml) with the one given now.
// Throws psy::Error (exit code 2) naming the first key that changes the run's meaning, its old
// and new values, and what to do; returns the allowed extensions.
ResumeCheck check_resume_settings(const Recipe& before, const Recipe& now, const std::string& before_file);

}  // namespace psy
