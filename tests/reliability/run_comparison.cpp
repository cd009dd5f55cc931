#include "tests/reliability/run_comparison.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace fs = std::filesystem;

namespace psy::reliability {

namespace {

// Byte equality of `relative` in both folders.
void same_bytes(const fs::path& ref, const fs::path& got, const std::string& relative, std::vector<std::string>& diffs) {
  try {
    if (read_text_file((ref / relative).string()) != read_text_file((got / relative).string()))
      diffs.push_back(relative + ": the bytes differ from the uninterrupted run's");
  } catch (const std::exception& e) {
    diffs.push_back(relative + ": " + e.what());
  }
}

std::set<std::string> checkpoint_names(const fs::path& run) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) out.insert(e.path().filename().string());
  return out;
}

std::vector<nlohmann::json> json_lines(const fs::path& path) {
  std::vector<nlohmann::json> out;
  const std::string text = read_text_file(path.string());
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(parse_json_text(text.substr(start, nl - start), path.string()));
    start = nl + 1;
  }
  return out;
}

void compare_logs(const fs::path& ref, const fs::path& got, std::vector<std::string>& diffs) {
  static const char* kKeys[] = {"step", "epoch", "loss", "lr", "grad_norm", "tokens", "eval_loss", "skipped"};
  try {
    const auto a = json_lines(ref / "log.jsonl"), b = json_lines(got / "log.jsonl");
    if (a.size() != b.size()) {
      diffs.push_back("log.jsonl: " + std::to_string(b.size()) + " lines, the uninterrupted run has " +
                      std::to_string(a.size()));
      return;
    }
    for (size_t i = 0; i < a.size(); ++i)
      for (const char* k : kKeys) {
        const auto x = a[i].find(k), y = b[i].find(k);
        const bool differ = (x == a[i].end()) != (y == b[i].end()) || (x != a[i].end() && *x != *y);
        if (differ)
          diffs.push_back("log.jsonl line " + std::to_string(i + 1) + ": " + k + " " +
                          (y == b[i].end() ? "absent" : y->dump()) + ", the uninterrupted run has " +
                          (x == a[i].end() ? "absent" : x->dump()));
      }
  } catch (const std::exception& e) {
    diffs.push_back(std::string("log.jsonl: ") + e.what());
  }
}

}  // namespace

std::vector<std::string> compare_train_runs(const std::string& reference_dir, const std::string& resumed_dir) {
  const fs::path ref(reference_dir), got(resumed_dir);
  std::vector<std::string> diffs;
  same_bytes(ref, got, "adapter/adapter_model.safetensors", diffs);
  same_bytes(ref, got, "adapter/adapter_config.json", diffs);
  const auto kept = checkpoint_names(ref);
  if (checkpoint_names(got) != kept) {
    std::string have;
    for (const auto& n : checkpoint_names(got)) have += " " + n;
    diffs.push_back("checkpoints/ holds" + have + ", not what the uninterrupted run kept");
  } else {
    for (const auto& n : kept) {
      const std::string c = "checkpoints/" + n + "/";
      same_bytes(ref, got, c + "adapter/adapter_model.safetensors", diffs);
      same_bytes(ref, got, c + "adapter/adapter_config.json", diffs);
      same_bytes(ref, got, c + "optimizer.safetensors", diffs);
      try {
        if (read_json_file((ref / (c + "trainer_state.json")).string()) != read_json_file((got / (c + "trainer_state.json")).string()))
          diffs.push_back(c + "trainer_state.json differs from the uninterrupted run's");
      } catch (const std::exception& e) {
        diffs.push_back(e.what());
      }
    }
  }
  compare_logs(ref, got, diffs);
  return diffs;
}

std::vector<std::string> compare_eval_runs(const std::string& reference_dir, const std::string& resumed_dir) {
  const fs::path ref(reference_dir), got(resumed_dir);
  std::vector<std::string> diffs;
  same_bytes(ref, got, "predictions.jsonl", diffs);
  try {
    if (read_json_file((ref / "eval_settings.json").string()) != read_json_file((got / "eval_settings.json").string()))
      diffs.push_back("eval_settings.json differs from the uninterrupted run's");
    nlohmann::json a = read_json_file((ref / "metrics.json").string());
    nlohmann::json b = read_json_file((got / "metrics.json").string());
    a.erase("resumed");
    b.erase("resumed");
    if (a != b) {
      std::string keys;
      for (auto it = a.begin(); it != a.end(); ++it)
        if (!b.contains(it.key()) || b[it.key()] != *it) keys += " " + it.key();
      diffs.push_back("metrics.json differs from the uninterrupted run's in:" + keys);
    }
  } catch (const std::exception& e) {
    diffs.push_back(e.what());
  }
  return diffs;
}

}  // namespace psy::reliability
