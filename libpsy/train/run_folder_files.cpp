#include "libpsy/train/run_folder_files.h"

#include <filesystem>
#include <system_error>

#include "libpsy/core/error.h"
#include "libpsy/core/remove_tree.h"

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

bool is_step_folder(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.size() == 5) return false;
  for (size_t i = 5; i < name.size(); ++i)
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

const std::vector<std::string>& run_output_names() {
  static const std::vector<std::string> names = {
      "checkpoints", "adapter",         "model",        "log.jsonl",         "tensorboard",
      "recipe.yaml", "manifest.json",   "metrics.json", "predictions.jsonl", "eval_settings.json"};
  return names;
}

bool holds_previous_run(const std::string& run_dir) {
  std::error_code ec;
  const fs::path run(run_dir);
  if (fs::exists(run / "adapter", ec) || fs::exists(run / "model", ec)) return true;
  if (!fs::is_directory(run / "checkpoints", ec)) return false;
  for (const auto& e : fs::directory_iterator(run / "checkpoints", ec))
    if (is_step_folder(e.path().filename().string()) && fs::exists(e.path() / "trainer_state.json", ec)) return true;
  return false;
}

void clear_run_outputs(const std::string& run_dir) {
  for (const auto& name : run_output_names()) remove_or_throw((fs::path(run_dir) / name).string());
  for (const auto& tmp : clean_stale_files(run_dir)) (void)tmp;
}

std::vector<std::string> clean_stale_files(const std::string& run_dir) {
  const fs::path run(run_dir);
  std::vector<std::string> doomed;
  collect_temporaries(run, doomed);
  collect_temporaries(run / "adapter", doomed);
  collect_temporaries(run / "model", doomed);
  std::error_code ec;
  if (fs::is_directory(run / "checkpoints", ec)) {
    for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(".tmp-step-", 0) == 0) {
        doomed.push_back(e.path().string());
      } else if (is_step_folder(name)) {
        if (!fs::exists(e.path() / "trainer_state.json", ec)) doomed.push_back(e.path().string());
        else {
          collect_temporaries(e.path(), doomed);
          collect_temporaries(e.path() / "adapter", doomed);
          collect_temporaries(e.path() / "model", doomed);
        }
      }
    }
  }
  for (const auto& p : doomed) remove_or_throw(p);
  return doomed;
}

}  // namespace psy
