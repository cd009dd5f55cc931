#include "tests/reliability/run_folder_checks.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/io/safetensors_format.h"

namespace fs = std::filesystem;

namespace psy::reliability {

namespace {

long step_number(const std::string& name) {
  if (name.rfind("step-", 0) != 0 || name.size() == 5) return -1;
  for (size_t i = 5; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return -1;
  return std::stol(name.substr(5));
}

// Runs `check`; a psy::Error or JSON error becomes one problem line.
template <typename F>
void collect(std::vector<std::string>& problems, F&& check) {
  try {
    check();
  } catch (const std::exception& e) {
    problems.push_back(e.what());
  }
}

void require(bool ok, const std::string& problem) {
  if (!ok) throw Error(problem);
}

void check_adapter(const fs::path& dir, const std::vector<std::string>& params, std::vector<std::string>& problems) {
  collect(problems, [&] { read_json_file((dir / "adapter_config.json").string()); });
  collect(problems, [&] {
    const auto names = safetensors_names((dir / "adapter_model.safetensors").string());
    const std::set<std::string> have(names.begin(), names.end());
    for (const auto& p : params)
      require(have.count(p) == 1, (dir / "adapter_model.safetensors").string() + ": no tensor '" + p + "'");
    require(params.empty() || names.size() == params.size(),
            (dir / "adapter_model.safetensors").string() + ": " +
                expected_found(std::to_string(params.size()) + " tensors", std::to_string(names.size())));
  });
}

void check_checkpoint(const fs::path& dir, long step, std::vector<std::string>& problems) {
  const std::string state_path = (dir / "trainer_state.json").string();
  std::vector<std::string> params;
  try {
    const nlohmann::json st = read_json_file(state_path);
    require(st.value("step", -1L) == step, state_path + ": step " + expected_found(std::to_string(step), st.value("step", nlohmann::json()).dump()));
    params = st.at("param_names").get<std::vector<std::string>>();
    require(!params.empty(), state_path + ": no param_names");
  } catch (const std::exception& e) {
    problems.push_back(std::string("checkpoint ") + dir.string() + ": " + e.what());
    return;
  }
  check_adapter(dir / "adapter", params, problems);
  collect(problems, [&] {
    const std::string opt = (dir / "optimizer.safetensors").string();
    const auto names = safetensors_names(opt);
    const std::set<std::string> have(names.begin(), names.end());
    std::vector<std::string> wanted = {"rng.cpu"};
    for (size_t i = 0; i < params.size(); ++i) {
      wanted.push_back("exp_avg." + std::to_string(i));
      wanted.push_back("exp_avg_sq." + std::to_string(i));
    }
    for (const auto& w : wanted) require(have.count(w) == 1, opt + ": no tensor '" + w + "'");
  });
}

// Every line of a JSON Lines file complete and parsed; returns them.
std::vector<nlohmann::json> whole_json_lines(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<nlohmann::json> out;
  size_t start = 0, line = 0;
  while (start < text.size()) {
    ++line;
    const size_t nl = text.find('\n', start);
    require(nl != std::string::npos, path + ":" + std::to_string(line) + ": a torn last line (no newline): '" +
                                         text.substr(start, 80) + "'");
    out.push_back(parse_json_text(text.substr(start, nl - start), path + ":" + std::to_string(line)));
    start = nl + 1;
  }
  return out;
}

bool is_temporary_name(const std::string& name) {
  if (name.rfind(".tmp-step-", 0) == 0) return true;
  const auto pos = name.rfind(".tmp.");
  if (pos == std::string::npos || pos + 5 >= name.size()) return false;
  return std::all_of(name.begin() + static_cast<long>(pos) + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::string> safetensors_names(const std::string& path) {
  const std::string bytes = read_text_file(path);
  const SafetensorsHeader h =
      parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
  std::vector<std::string> names;
  for (const auto& t : h.tensors) names.push_back(t.name);
  return names;
}

std::vector<std::string> check_train_folder(const std::string& run_dir) {
  std::vector<std::string> problems;
  const fs::path run(run_dir);
  std::error_code ec;
  if (fs::is_directory(run / "checkpoints", ec)) {
    for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(".tmp-step-", 0) == 0) continue;  // a save that had not finished: never a checkpoint
      const long step = step_number(name);
      if (step < 0) {
        problems.push_back("checkpoints/" + name + ": not a psy checkpoint name");
        continue;
      }
      check_checkpoint(e.path(), step, problems);
    }
  }
  if (fs::exists(run / "log.jsonl", ec)) {
    collect(problems, [&] {
      long last = 0;
      for (const auto& j : whole_json_lines((run / "log.jsonl").string())) {
        const long step = j.value("step", -1L);
        require(step > last, (run / "log.jsonl").string() + ": step " + std::to_string(step) + " after step " +
                                 std::to_string(last));
        last = step;
      }
    });
  }
  if (fs::exists(run / "adapter", ec)) {
    const bool config = fs::exists(run / "adapter" / "adapter_config.json", ec);
    const bool tensors = fs::exists(run / "adapter" / "adapter_model.safetensors", ec);
    if (config || tensors) {
      if (!config || !tensors)
        problems.push_back((run / "adapter").string() + ": half an adapter (" +
                           (config ? "adapter_config.json without adapter_model.safetensors"
                                   : "adapter_model.safetensors without adapter_config.json") + ")");
      else
        check_adapter(run / "adapter", {}, problems);
    }
  }
  if (fs::exists(run / "manifest.json", ec)) collect(problems, [&] { read_json_file((run / "manifest.json").string()); });
  return problems;
}

std::vector<std::string> check_eval_folder(const std::string& out_dir) {
  std::vector<std::string> problems;
  const fs::path out(out_dir);
  std::error_code ec;
  if (fs::exists(out / "predictions.jsonl", ec)) {
    collect(problems, [&] {
      for (const auto& j : whole_json_lines((out / "predictions.jsonl").string()))
        require(j.is_object() && j.contains("id"), (out / "predictions.jsonl").string() + ": a line without an id");
    });
  }
  for (const char* f : {"metrics.json", "eval_settings.json"})
    if (fs::exists(out / f, ec)) collect(problems, [&] { read_json_file((out / f).string()); });
  return problems;
}

std::vector<std::string> temporary_leftovers(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return found;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (is_temporary_name(it->path().filename().string())) found.push_back(it->path().string());
  }
  return found;
}

}  // namespace psy::reliability
