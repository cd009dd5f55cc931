#include "libpsy/run/model_source.h"

#include <filesystem>
#include <limits>
#include <map>
#include <system_error>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/jsonl_reader.h"
#include "libpsy/core/text_file.h"
#include "libpsy/run/run_folder.h"

namespace fs = std::filesystem;

namespace psy {

namespace {

bool has_file(const fs::path& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

std::string step_list(const std::vector<long>& steps) {
  if (steps.empty()) return "none";
  std::string s;
  for (size_t i = 0; i < steps.size(); ++i) s += (i ? ", " : "") + checkpoint_name(steps[i]);
  return s;
}

// Where a weights folder sits in a run's layout: RUN/{adapter,model}, RUN/checkpoints/step-N[/{adapter,model}].
void place_in_run(const fs::path& weights, ModelSource& s) {
  fs::path p = weights;
  const std::string leaf = p.filename().string();
  if (leaf == CheckpointFiles::adapter || leaf == CheckpointFiles::model) p = p.parent_path();
  const long step = checkpoint_step(p.filename().string());
  if (step >= 0 && p.parent_path().filename() == "checkpoints") p = p.parent_path().parent_path();
  if (p.empty() || !is_run_folder(p.string())) return;
  s.run_dir = p.string();
  s.step = step;
}

[[noreturn]] void fail(const std::string& option, const std::string& path, const std::string& problem) {
  throw Error(option + " " + path + ": " + problem);
}

// The eval_loss logged at each step of RUN/log.jsonl (the last one when a step is logged twice).
std::map<long, double> eval_losses(const RunFolder& run) {
  std::map<long, double> out;
  if (!path_exists(run.log_path())) return out;
  JsonlOptions options;
  options.torn_last_line = TornLastLine::Drop;  // a training killed while it wrote the line
  for_each_jsonl_line(
      run.log_path(),
      [&out](const JsonLine& l) {
        const auto& j = l.value;
        if (j.is_object() && j.contains("step") && j["step"].is_number_integer() && j.contains("eval_loss") &&
            j["eval_loss"].is_number())
          out[j["step"].get<long>()] = j["eval_loss"].get<double>();
      },
      options);
  return out;
}

ModelSource resolve_folder(const fs::path& dir, const std::string& option, const std::string& shown);

// RUN/last, RUN/best, RUN/step-N (also under RUN/checkpoints/).
ModelSource resolve_named(const RunFolder& run, const std::string& name, const std::string& option,
                          const std::string& shown) {
  const std::vector<long> complete = run.checkpoint_steps();
  const std::vector<long> incomplete = run.incomplete_checkpoint_steps();
  const std::string found = "complete checkpoints in " + run.dir() + ": " + step_list(complete) +
                            (incomplete.empty() ? "" : "; incomplete (no trainer_state.json): " + step_list(incomplete));
  long step = checkpoint_step(name);
  if (name == "last") {
    if (complete.empty()) fail(option, shown, "no complete checkpoint to take as the last (" + found + ")");
    step = complete.back();
  } else if (name == "best") {
    const auto losses = eval_losses(run);
    double best = std::numeric_limits<double>::infinity();
    step = -1;
    for (const long s : complete) {
      const auto it = losses.find(s);
      if (it != losses.end() && it->second < best) best = it->second, step = s;
    }
    if (step < 0)
      fail(option, shown, "no complete checkpoint has an eval_loss in " + run.log_path() +
                              " to choose the best by (" + found + ")");
  } else if (!fs::is_directory(run.checkpoint_dir(step))) {
    fail(option, shown, "no checkpoint " + name + " (" + found + ")");
  }
  return resolve_folder(run.checkpoint_dir(step), option, shown);
}

ModelSource resolve_folder(const fs::path& dir, const std::string& option, const std::string& shown) {
  ModelSource s;
  const long step = checkpoint_step(dir.filename().string());
  if (step >= 0 && !is_complete_checkpoint(dir.string()))
    fail(option, shown, "checkpoint " + dir.string() + " is incomplete (no " + CheckpointFiles::trainer_state +
                            ": its save or removal was interrupted); use another checkpoint");
  if (has_file(dir, CheckpointFiles::adapter_config)) {
    s.adapter_dir = dir.string();
  } else if (has_file(dir, CheckpointFiles::model_config)) {
    s.model_dir = dir.string();
  } else if (has_file(dir / CheckpointFiles::adapter, CheckpointFiles::adapter_config)) {
    s.adapter_dir = (dir / CheckpointFiles::adapter).string();
  } else if (has_file(dir / CheckpointFiles::model, CheckpointFiles::model_config)) {
    s.model_dir = (dir / CheckpointFiles::model).string();
  } else {
    const bool is_checkpoints = dir.filename() == "checkpoints";
    const RunFolder run(is_checkpoints ? dir.parent_path().string() : dir.string());
    const auto complete = run.checkpoint_steps();
    if (!complete.empty()) return resolve_folder(run.checkpoint_dir(complete.back()), option, shown);
    const auto incomplete = run.incomplete_checkpoint_steps();
    if (!incomplete.empty())
      fail(option, shown, "every checkpoint in " + run.checkpoints_dir() + " is incomplete (no " +
                              CheckpointFiles::trainer_state + "): " + step_list(incomplete));
    if (step >= 0) fail(option, shown, "checkpoint " + dir.string() + " holds neither adapter/ nor model/");
    fail(option, shown, expected_found("an adapter, model, checkpoint or run folder", "none of them there"));
  }
  place_in_run(fs::path(s.is_adapter() ? s.adapter_dir : s.model_dir), s);
  return s;
}

}  // namespace

std::string ModelSource::describe() const {
  std::string s = is_adapter() ? "adapter " + adapter_dir : "model " + model_dir;
  if (!run_dir.empty()) s += " (run " + run_dir + (step >= 0 ? ", step " + std::to_string(step) : ", final") + ")";
  return s;
}

ModelSource resolve_model_source(const std::string& path, const std::string& option) {
  if (path.empty()) fail(option, "''", "an empty path");
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();  // a trailing slash
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    const std::string name = p.filename().string();
    fs::path run = p.parent_path();
    if (run.filename() == "checkpoints") run = run.parent_path();
    if ((name == "last" || name == "best" || checkpoint_step(name) >= 0) && !run.empty() && is_run_folder(run.string()))
      return resolve_named(RunFolder(run.string()), name, option, path);
    fail(option, path, "no such file or folder");
  }
  if (!fs::is_directory(p, ec))
    fail(option, path, expected_found("a folder (adapter, model, checkpoint or run)", "a file"));
  return resolve_folder(p, option, path);
}

std::optional<ModelSource> find_model_source(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !fs::is_directory(path, ec)) return std::nullopt;
  try {
    return resolve_model_source(path);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::string adapter_base_model(const std::string& adapter_dir) {
  const fs::path config = fs::path(adapter_dir) / CheckpointFiles::adapter_config;
  try {
    const auto j = nlohmann::json::parse(read_text_file(config.string()));
    if (!j.is_object() || !j.contains("base_model_name_or_path") || !j["base_model_name_or_path"].is_string()) return "";
    const std::string base = j["base_model_name_or_path"].get<std::string>();
    std::error_code ec;
    return !base.empty() && fs::is_directory(base, ec) ? base : "";
  } catch (const std::exception&) {
    return "";
  }
}

std::string run_folder_of(const std::string& path) {
  if (is_run_folder(path)) return path;
  // A folder of a run's layout: RUN/adapter, RUN/model, RUN/checkpoints, RUN/checkpoints/step-N[/...].
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  for (int up = 0; up < 3 && !p.empty(); ++up) {
    const std::string leaf = p.filename().string();
    const bool layout = leaf == CheckpointFiles::adapter || leaf == CheckpointFiles::model || leaf == "checkpoints" ||
                        checkpoint_step(leaf) >= 0;
    if (!layout) break;
    p = p.parent_path();
    if (!p.empty() && is_run_folder(p.string())) return p.string();
  }
  return path;
}

}  // namespace psy
