#include "libpsy/evaluate/generated_cot.h"

namespace psy {

bool task_has_observation(const std::string& task) { return task == "observation_reasoning_dialog"; }
bool task_has_reasoning(const std::string& task) {
  return task == "reasoning_dialog" || task == "observation_reasoning_dialog";
}

GeneratedCot interpret_generation(const std::string& text, const std::string& task, const CotSections& gold,
                                  const CotMarkers& markers) {
  GeneratedCot g;
  g.parsed = parse_cot(text, markers);
  const ParsedCot& p = g.parsed;
  if (!task_has_reasoning(task)) {
    g.well_formed = !p.any_marker || p.has_response;
  } else {
    g.well_formed = p.has_response && p.has_reasoning;
    if (task_has_observation(task) && !gold.observation.empty()) g.well_formed = g.well_formed && p.has_observation;
  }
  return g;
}

}  // namespace psy
