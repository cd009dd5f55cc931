#include "libpsy/train/training_checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/remove_tree.h"
#include "libpsy/io/safetensors.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/run/run_folder.h"

namespace fs = std::filesystem;

namespace psy {

namespace {

long step_of(const fs::path& p) { return checkpoint_step(p.filename().string()); }

std::vector<std::pair<long, fs::path>> list_checkpoints(const fs::path& dir) {
  std::vector<std::pair<long, fs::path>> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    long n = step_of(e.path());
    if (n >= 0 && is_complete_checkpoint(e.path().string())) out.emplace_back(n, e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Dropout on a GPU draws from that device's generator: a resumed run must continue its stream
// exactly as the CPU one does. Keys "rng.cuda.<index>", one per CUDA device the model uses.
std::map<std::string, torch::Tensor> cuda_rng_states(DecoderImpl& decoder) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : decoder.parameters()) {
    if (!p.is_cuda()) continue;
    const std::string key = "rng.cuda." + std::to_string(p.device().index());
    if (out.count(key)) continue;
    at::Generator gen = at::globalContext().defaultGenerator(p.device());
    std::lock_guard<std::mutex> lock(gen.mutex());
    out[key] = gen.get_state();
  }
  return out;
}

void restore_cuda_rng_states(const std::map<std::string, torch::Tensor>& state) {
  const std::string prefix = "rng.cuda.";
  for (const auto& [key, value] : state) {
    if (key.rfind(prefix, 0) != 0) continue;
    const int index = std::stoi(key.substr(prefix.size()));
    if (!torch::cuda::is_available() || index >= static_cast<int>(torch::cuda::device_count())) continue;
    at::Generator gen = at::globalContext().defaultGenerator(torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index)));
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(value);
  }
}

// Removes a checkpoint folder without ever leaving a half-removed step-N behind: remove_tree
// deletes trainer_state.json last (directory order), so a kill during it left a step-N that
// looked complete and had lost its tensors. The folder is first renamed (atomically) to a hidden
// ".tmp-step-N-removed", which the next save or start removes if this process dies first.
void remove_checkpoint(const fs::path& dir) {
  std::error_code ec;
  const fs::path doomed = dir.parent_path() / (".tmp-" + dir.filename().string() + "-removed");
  remove_tree(doomed.string(), ec);
  fs::rename(dir, doomed, ec);
  remove_tree((ec ? dir : doomed).string(), ec);
}

// Renames the complete checkpoint `tmp` to `final_dir`. A step-N already there (a resumed run
// saving its last step again) is swapped out in one step (renameat2 RENAME_EXCHANGE) and then
// removed, so step-N is whole at every moment.
void move_into_place(const fs::path& tmp, const fs::path& final_dir) {
  std::error_code ec;
  if (fs::exists(final_dir, ec)) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0) {
      remove_tree(tmp.string(), ec);  // the old step-N, now under the hidden name
      return;
    }
    remove_checkpoint(final_dir);  // a file system without the exchange
  }
  fs::rename(tmp, final_dir);
}

}  // namespace

std::string save_training_checkpoint(const std::string& checkpoints_dir, DecoderImpl& decoder,
                                     const AdamW& optimizer, const TrainerProgress& progress,
                                     const CheckpointContent& content, int keep_last) {
  make_dirs(checkpoints_dir);
  const fs::path final_dir = fs::path(checkpoints_dir) / checkpoint_name(progress.step);
  const fs::path tmp = fs::path(checkpoints_dir) / checkpoint_temp_name(progress.step);
  std::error_code ec;
  // Leftovers of a save that a killed process never finished (one writer per run folder).
  for (const auto& e : fs::directory_iterator(checkpoints_dir, ec))
    if (is_checkpoint_temp_name(e.path().filename().string())) remove_tree(e.path().string(), ec);
  remove_tree(tmp.string(), ec);
  try {
    make_dirs(tmp.string());
    if (content.mode == "full") {
      save_decoder(decoder, (tmp / CheckpointFiles::model).string());
    } else {
      save_peft_adapter(decoder, (tmp / CheckpointFiles::adapter).string(), content.base_model_path);
    }
    auto tensors = optimizer.state_tensors();
    tensors["rng.cpu"] = at::detail::getDefaultCPUGenerator().get_state();
    for (const auto& [key, state] : cuda_rng_states(decoder)) tensors[key] = state;
    write_safetensors((tmp / CheckpointFiles::optimizer).string(), tensors);
    nlohmann::json st = {{"step", progress.step},
                         {"micro_batches", progress.micro_batches},
                         {"tokens", progress.tokens},
                         {"optimizer_steps", optimizer.steps_taken()},
                         {"loss_scale", progress.loss_scale},
                         {"loss_scale_good_steps", progress.loss_scale_good_steps},
                         {"best_eval_loss", std::isfinite(progress.best_eval_loss) ? nlohmann::json(progress.best_eval_loss)
                                                                                   : nlohmann::json(nullptr)},
                         {"evals_without_improvement", progress.evals_without_improvement},
                         {"skipped_steps", progress.skipped_steps},
                         {"mode", content.mode},
                         {"param_names", content.param_names}};
    write_file_atomic((tmp / CheckpointFiles::trainer_state).string(), st.dump(1) + "\n");
    move_into_place(tmp, final_dir);
  } catch (const std::exception& e) {
    remove_tree(tmp.string(), ec);
    throw Error("saving checkpoint " + final_dir.string() + " failed (previous checkpoints kept): " + e.what(),
                kExitFailure);
  }
  if (keep_last > 0) {
    auto all = list_checkpoints(checkpoints_dir);
    for (size_t i = 0; i + static_cast<size_t>(keep_last) < all.size(); ++i) remove_checkpoint(all[i].second);
  }
  return final_dir.string();
}

std::string find_latest_checkpoint(const std::string& dir) {
  fs::path p(dir);
  if (is_complete_checkpoint(p.string())) return p.string();
  for (const fs::path& cand : {fs::path(RunFolder(dir).checkpoints_dir()), p}) {
    auto all = list_checkpoints(cand);
    if (!all.empty()) return all.back().second.string();
  }
  return "";
}

TrainerProgress load_training_checkpoint(const std::string& checkpoint, DecoderImpl& decoder, AdamW& optimizer,
                                         const CheckpointContent& content) {
  const fs::path dir(checkpoint);
  const fs::path state_path = dir / CheckpointFiles::trainer_state;
  std::ifstream in(state_path);
  if (!in) throw Error("resume: no " + std::string(CheckpointFiles::trainer_state) + " in '" + checkpoint + "'");
  nlohmann::json st;
  try {
    st = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error("resume: " + state_path.string() + ": " + e.what());
  }
  if (st.value("mode", "") != content.mode)
    throw Error("resume: checkpoint '" + checkpoint + "' " +
                expected_found("train.mode " + content.mode, st.value("mode", std::string("?"))));
  if (st["param_names"].get<std::vector<std::string>>() != content.param_names)
    throw Error("resume: checkpoint '" + checkpoint +
                "' trains different parameters than this recipe (LoRA targets or rank changed?)");
  if (content.mode == "full") {
    CheckpointReader reader((dir / CheckpointFiles::model).string());
    load_decoder_weights(decoder, reader);
  } else {
    // Copy into the existing parameters: the optimizer holds them.
    SafetensorsReader adapter((dir / CheckpointFiles::adapter / CheckpointFiles::adapter_weights).string());
    torch::NoGradGuard no_grad;
    for (auto& [key, param] : lora_parameters(decoder)) {
      torch::Tensor t = adapter.load(key, param.device(), param.scalar_type());
      if (t.sizes() != param.sizes())
        throw Error("resume: " + adapter.path() + ": tensor '" + key + "' has the wrong shape (lora.r changed?)");
      param.copy_(t);
    }
  }
  SafetensorsReader opt((dir / CheckpointFiles::optimizer).string());
  std::map<std::string, torch::Tensor> state;
  for (const auto& n : opt.names()) state[n] = opt.load(n);
  optimizer.load_state(state, st.at("optimizer_steps").get<int64_t>());
  if (state.count("rng.cpu")) {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.at("rng.cpu"));
  }
  restore_cuda_rng_states(state);
  TrainerProgress p;
  p.step = st.at("step");
  p.micro_batches = st.at("micro_batches");
  p.tokens = st.at("tokens");
  p.loss_scale = st.at("loss_scale");
  p.loss_scale_good_steps = st.at("loss_scale_good_steps");
  if (!st["best_eval_loss"].is_null()) p.best_eval_loss = st["best_eval_loss"];
  p.evals_without_improvement = st.at("evals_without_improvement");
  p.skipped_steps = st.at("skipped_steps");
  return p;
}

}  // namespace psy
