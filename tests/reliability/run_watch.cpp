#include "tests/reliability/run_watch.h"

#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

namespace psy::reliability {

namespace {

size_t complete_lines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  size_t n = 0;
  for (std::istreambuf_iterator<char> it(in), end; it != end; ++it) n += *it == '\n';
  return n;
}

}  // namespace

TrainView view_train(const std::string& run_dir) {
  TrainView v;
  const fs::path run(run_dir);
  std::error_code ec;
  v.log_lines = complete_lines(run / "log.jsonl");
  for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-step-", 0) == 0 && name.find("-removed") != std::string::npos) {
      v.pruning = true;
    } else if (name.rfind(".tmp-step-", 0) == 0) {
      ++v.saves_seen;
    } else if (name.rfind("step-", 0) == 0 && fs::exists(e.path() / "trainer_state.json", ec)) {
      try {
        v.newest_checkpoint = std::max(v.newest_checkpoint, std::stol(name.substr(5)));
      } catch (...) {
      }
    }
  }
  v.final_adapter = fs::exists(run / "adapter" / "adapter_config.json", ec);
  v.adapter_writing = !v.final_adapter && fs::exists(run / "adapter" / "adapter_model.safetensors", ec);
  for (const auto& e : fs::directory_iterator(run, ec))
    if (e.path().filename().string().rfind("adapter.tmp.", 0) == 0) v.adapter_writing = true;
  return v;
}

EvalView view_eval(const std::string& out_dir) {
  EvalView v;
  std::error_code ec;
  v.predictions = complete_lines(fs::path(out_dir) / "predictions.jsonl");
  v.metrics = fs::exists(fs::path(out_dir) / "metrics.json", ec);
  return v;
}

}  // namespace psy::reliability
