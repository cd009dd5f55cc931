// A generated chain of thought, parsed with the markers training used, and whether it has the
// shape the example's task asks for. No LibTorch.
#pragma once
#include <string>

#include "libpsy/data/cot_format.h"
#include "libpsy/data/sample_builder.h"

namespace psy {

struct GeneratedCot {
  ParsedCot parsed;
  // The parse succeeded: dialog task: no section markers at all, or a response marker;
  // reasoning_dialog: reasoning and response markers; observation_reasoning_dialog: those and an
  // observation marker when the gold target has an observation section.
  bool well_formed = false;
};

GeneratedCot interpret_generation(const std::string& text, const std::string& task, const CotSections& gold,
                                  const CotMarkers& markers);

// Which sections a task's target holds.
bool task_has_observation(const std::string& task);
bool task_has_reasoning(const std::string& task);

}  // namespace psy
