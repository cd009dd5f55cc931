#include "libpsy/run/run_folder.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace psy {

std::string checkpoint_name(long step) { return "step-" + std::to_string(step); }

long checkpoint_step(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.size() == 5 || name.size() > 5 + 18) return -1;
  long n = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

std::string checkpoint_temp_name(long step) { return ".tmp-" + checkpoint_name(step); }

bool is_checkpoint_temp_name(const std::string& name) { return name.rfind(".tmp-step-", 0) == 0; }

bool is_complete_checkpoint(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / CheckpointFiles::trainer_state, ec);
}

const std::vector<std::string>& RunFolder::output_names() {
  static const std::vector<std::string> names = {
      "checkpoints", "adapter",         "model",        "log.jsonl",         "tensorboard",
      "recipe.yaml", "manifest.json",   "metrics.json", "predictions.jsonl", "eval_settings.json"};
  return names;
}

namespace {

// Steps of the step-N folders in `checkpoints`, complete or not as asked, ascending.
std::vector<long> steps_in(const std::string& checkpoints, bool complete) {
  std::vector<long> out;
  std::error_code ec;
  if (!fs::is_directory(checkpoints, ec)) return out;
  for (const auto& e : fs::directory_iterator(checkpoints, ec)) {
    const long n = checkpoint_step(e.path().filename().string());
    if (n >= 0 && fs::is_directory(e.path(), ec) && is_complete_checkpoint(e.path().string()) == complete)
      out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<long> RunFolder::checkpoint_steps() const { return steps_in(checkpoints_dir(), true); }

std::vector<long> RunFolder::incomplete_checkpoint_steps() const { return steps_in(checkpoints_dir(), false); }

bool RunFolder::holds_trained_weights() const {
  std::error_code ec;
  if (fs::exists(adapter_dir(), ec) || fs::exists(model_dir(), ec)) return true;
  return !checkpoint_steps().empty();
}

bool is_run_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  const RunFolder run(dir);
  for (const std::string& p : {run.recipe_path(), run.log_path(), dir + "/" + FolderLock::file_name()})
    if (fs::is_regular_file(p, ec)) return true;
  return fs::is_directory(run.checkpoints_dir(), ec);
}

std::string enclosing_run_folder(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(path), ec).lexically_normal();
  if (ec) return "";
  if (!p.has_filename()) p = p.parent_path();  // a trailing slash
  fs::path shown = fs::path(path).lexically_normal();
  if (!shown.has_filename()) shown = shown.parent_path();
  for (int up = 0; up <= 3 && !p.empty(); ++up) {
    if (is_run_folder(p.string())) return shown.empty() ? p.string() : shown.string();
    if (p == p.parent_path()) break;
    p = p.parent_path();
    shown = shown.parent_path();  // "" once a relative path runs out: the absolute one is shown
  }
  return "";
}

}  // namespace psy
