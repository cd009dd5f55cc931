// The files a run leaves in its folder, and their hygiene: what `psy train --overwrite` clears, and
// the leftovers of a killed process (temporary files, half-pruned checkpoints) removed at the next
// start. Call these only while holding the folder's lock (FolderLock), so nothing live is touched.
#pragma once
#include <string>
#include <vector>

namespace psy {

// Names (relative to the run folder) of everything a training or evaluation run writes there.
const std::vector<std::string>& run_output_names();

// True when the folder holds what a previous run produced (a checkpoint, adapter/ or model/).
bool holds_previous_run(const std::string& run_dir);

// Removes every run output (not the lock file, not files psy did not write). Throws psy::Error
// (exit code 1) naming what could not be removed.
void clear_run_outputs(const std::string& run_dir);

// Removes temporary files of killed writers (NAME.tmp.PID in the run folder, adapter/, model/ and
// checkpoint folders), hidden .tmp-step-N folders and checkpoints/step-N folders without a
// trainer_state.json (a kill while saving or pruning). Returns what it removed.
std::vector<std::string> clean_stale_files(const std::string& run_dir);

}  // namespace psy
