#include "libpsy/train/run_folder_files.h"

#include <filesystem>
#include <system_error>

#include "libpsy/core/error.h"
#include "libpsy/core/remove_tree.h"
#include "libpsy/run/run_folder.h"

namespace fs = std::filesystem;

namespace psy {

namespace {

// NAME.tmp.PID (write_file_atomic's temporary name).
bool is_temporary_file(const std::string& name) {
  const auto pos = name.rfind(".tmp.");
  if (pos == std::string::npos || pos == 0 || pos + 5 >= name.size()) return false;
  for (size_t i = pos + 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  return true;
}

void remove_or_throw(const std::string& path) {
  std::error_code ec;
  if (!remove_tree(path, ec))
    throw Error(path + ": cannot remove (" + ec.message() + ")", kExitFailure);
}

void collect_temporaries(const fs::path& dir, std::vector<std::string>& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (is_temporary_file(name)) out.push_back(e.path().string());
  }
}

}  // namespace

const std::vector<std::string>& run_output_names() { return RunFolder::output_names(); }

bool holds_previous_run(const std::string& run_dir) { return RunFolder(run_dir).holds_trained_weights(); }

void clear_run_outputs(const std::string& run_dir) {
  for (const auto& name : run_output_names()) remove_or_throw((fs::path(run_dir) / name).string());
  for (const auto& tmp : clean_stale_files(run_dir)) (void)tmp;
}

std::vector<std::string> clean_stale_files(const std::string& run_dir) {
  const RunFolder run(run_dir);
  std::vector<std::string> doomed;
  collect_temporaries(run.dir(), doomed);
  collect_temporaries(run.adapter_dir(), doomed);
  collect_temporaries(run.model_dir(), doomed);
  std::error_code ec;
  if (fs::is_directory(run.checkpoints_dir(), ec)) {
    for (const auto& e : fs::directory_iterator(run.checkpoints_dir(), ec)) {
      const std::string name = e.path().filename().string();
      if (is_checkpoint_temp_name(name)) {
        doomed.push_back(e.path().string());
      } else if (checkpoint_step(name) >= 0) {
        if (!is_complete_checkpoint(e.path().string())) doomed.push_back(e.path().string());
        else {
          collect_temporaries(e.path(), doomed);
          collect_temporaries(e.path() / CheckpointFiles::adapter, doomed);
          collect_temporaries(e.path() / CheckpointFiles::model, doomed);
        }
      }
    }
  }
  for (const auto& p : doomed) remove_or_throw(p);
  return doomed;
}

}  // namespace psy
