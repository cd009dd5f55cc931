#include "libpsy/train/training_loop.h"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/io/tensorboard_writer.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/runtime/cuda_memory.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/batch_plan.h"
#include "libpsy/train/grad_clip.h"
#include "libpsy/train/loss_scaler.h"
#include "libpsy/train/lr_schedule.h"
#include "libpsy/train/memory_usage.h"
#include "libpsy/train/progress_line.h"
#include "libpsy/train/stop_signal.h"
#include "libpsy/train/train_forward.h"
#include "libpsy/train/training_checkpoint.h"

namespace fs = std::filesystem;

namespace psy {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Keeps the log lines of steps <= `step` (a resumed run rewrites what came after its checkpoint).
void truncate_log(const std::string& path, long step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("step", 0L) <= step) kept += line + "\n";
    } catch (...) {
    }
  }
  in.close();
  write_file_atomic(path, kept);
}

void append_log(const std::string& path, const nlohmann::json& entry) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  out << entry.dump() << "\n";
  out.flush();
  if (!out)
    throw Error(path + ": appending to the training log failed (" + std::strerror(errno) + ")", kExitFailure);
}

// A fresh run starts its TensorBoard folder afresh, as it does log.jsonl.
void remove_event_files(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) fs::remove(e.path(), ec);
}

// fp16 compute on the model's device, or an fp16 weight on a CPU (a layer split may put some there).
void check_precision_fits_device(const TrainSection& tr, DecoderImpl& decoder) {
  check_fp16_device(tr.precision, "", decoder.device());
  for (const auto& p : decoder.parameters())
    if (p.scalar_type() == torch::kHalf) check_fp16_device("", "fp16", p.device());
}

void check_sequences(const std::vector<TrainSequence>& seqs, const char* which) {
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i].ids.size() != seqs[i].weights.size() || seqs[i].ids.empty())
      throw Error(std::string(which) + " sample " + std::to_string(i) + ": " +
                  expected_found("as many weights as ids (at least one)",
                                 std::to_string(seqs[i].ids.size()) + " ids and " +
                                     std::to_string(seqs[i].weights.size()) + " weights"));
  }
}

}  // namespace

double evaluation_loss(DecoderImpl& decoder, const std::vector<TrainSequence>& seqs, int micro_batch,
                       int64_t pad_id, PlwNormalization norm) {
  if (seqs.empty()) return -1;
  const bool was_training = decoder.is_training();
  decoder.eval();
  torch::NoGradGuard no_grad;
  std::vector<size_t> order(seqs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return seqs[a].ids.size() > seqs[b].ids.size(); });
  double sum = 0, denom = 0;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(micro_batch)) {
    std::vector<const TrainSequence*> group;
    for (size_t j = i; j < std::min(order.size(), i + static_cast<size_t>(micro_batch)); ++j) group.push_back(&seqs[order[j]]);
    Batch b = collate(group, pad_id);
    torch::Device dev = decoder.device();
    torch::Tensor ids = b.input_ids.to(dev), w = b.label_weights.to(dev);
    torch::Tensor logits = decoder.forward(ids, b.attention_mask.to(dev));
    sum += weighted_ce_sum(logits, ids, w).item<double>();
    denom += loss_denominator(b.label_weights, norm);
  }
  if (was_training) decoder.train();
  return denom > 0 ? sum / denom : 0.0;
}

// LibTorch 1.13 has no fp16 matrix multiplication on CPU ("addmm_impl_cpu_" not implemented for
// 'Half'), and fp16 on a CPU would gain nothing over bf16 anyway: refuse with the keys to change.
void check_fp16_device(const std::string& precision, const std::string& model_dtype, const torch::Device& device) {
  if (device.is_cpu() && (precision == "fp16" || model_dtype == "fp16"))
    throw Error("train.precision / model.dtype: fp16 needs a CUDA device (devices.use: [cuda:0]); psy does not "
                "train fp16 on CPU (LibTorch 1.13 has no fp16 matrix multiplication there): on CPU set "
                "train.precision (and model.dtype) to bf16 or fp32");
}

TrainingResult run_training(DecoderImpl& decoder, const TrainingData& data, const TrainingSetup& setup) {
  const TrainSection& tr = setup.train;
  const bool full = tr.mode == "full";
  if (tr.mode != "full" && tr.mode != "lora")
    throw Error("train.mode: " + expected_found("lora or full", "'" + tr.mode + "'"));
  if (tr.micro_batch < 1 || tr.grad_accum < 1)
    throw Error("train.micro_batch and train.grad_accum: " + expected_found("at least 1", "a smaller value"));
  if (data.train.empty()) throw Error("training: the training split holds no samples");
  check_sequences(data.train, "train");
  check_sequences(data.eval, "eval");
  check_precision_fits_device(tr, decoder);
  const PlwNormalization norm = parse_plw_normalization(tr.plw_normalization);
  const long world = std::max(1, setup.world_size);
  const bool writer = setup.rank == 0;  // data parallel: rank 0 writes
  const bool quiet = setup.quiet || !writer;
  auto sum_over_ranks = [&](double v) { return setup.all_reduce_sum ? setup.all_reduce_sum(v) : v; };

  // Trainable parameters.
  std::vector<std::pair<std::string, torch::Tensor>> named = full ? enable_full_training(decoder) : lora_parameters(decoder);
  if (named.empty()) throw Error("training: no trainable parameters (LoRA mode without adapters?)");
  std::vector<torch::Tensor> params;
  std::vector<bool> decay;
  CheckpointContent content;
  content.mode = tr.mode;
  content.base_model_path = setup.base_model_path;
  for (auto& [n, t] : named) {
    params.push_back(t);
    decay.push_back(!full || t.dim() >= 2);  // full FT: no decay on norm weights
    content.param_names.push_back(n);
  }
  AdamWOptions aopt;
  aopt.lr = tr.lr;
  aopt.weight_decay = tr.weight_decay;
  AdamW optimizer(params, aopt, decay);

  // The sequences trained on (packed or not) and the plan.
  std::vector<TrainSequence> packed;
  const std::vector<TrainSequence>* seqs = &data.train;
  std::vector<std::vector<size_t>> pack_members;
  if (tr.packing) {
    std::vector<size_t> lens;
    for (const auto& s : data.train) lens.push_back(s.ids.size());
    pack_members = plan_packs(lens, static_cast<size_t>(setup.max_seq_len), setup.seed);
    for (const auto& bin : pack_members) {
      std::vector<const TrainSequence*> parts;
      for (size_t i : bin) parts.push_back(&data.train[i]);
      packed.push_back(pack_sequences(parts));
    }
    seqs = &packed;
  }
  std::vector<size_t> lengths;
  for (const auto& s : *seqs) lengths.push_back(s.ids.size());
  const long per_epoch = static_cast<long>((seqs->size() + tr.micro_batch - 1) / tr.micro_batch);
  const long total_steps = tr.max_steps > 0
                               ? tr.max_steps
                               : std::max(1L, static_cast<long>(std::ceil(tr.epochs * per_epoch / (tr.grad_accum * world) - 1e-9)));
  LrSchedule schedule;
  schedule.kind = parse_schedule(tr.schedule);
  schedule.lr = tr.lr;
  schedule.total_steps = total_steps;
  schedule.warmup_steps = resolve_warmup_steps(total_steps, tr.warmup_steps, tr.warmup_ratio);
  schedule.min_lr_ratio = tr.min_lr_ratio;

  LossScaler scaler;
  scaler.enabled = tr.precision == "fp16";

  // Fresh run or resume.
  torch::manual_seed(setup.seed);
  TrainerProgress progress;
  if (!setup.resume_from.empty()) progress = load_training_checkpoint(setup.resume_from, decoder, optimizer, content);
  scaler.scale = progress.loss_scale;
  scaler.good_steps = progress.loss_scale_good_steps;

  const std::string log_path = setup.run_dir.empty() || !writer ? "" : setup.run_dir + "/log.jsonl";
  const std::string ckpt_dir = setup.run_dir.empty() || !writer ? "" : setup.run_dir + "/checkpoints";
  if (!setup.run_dir.empty() && writer) {
    make_dirs(setup.run_dir);
    if (progress.step > 0) truncate_log(log_path, progress.step);
    else write_file_atomic(log_path, "");
  }
  std::optional<TensorBoardWriter> tensorboard;
  if (tr.tensorboard && !setup.run_dir.empty() && writer) {
    const std::string tb_dir = setup.run_dir + "/tensorboard";
    if (progress.step == 0) remove_event_files(tb_dir);
    tensorboard.emplace(tb_dir);
    // Steps after the checkpoint that an earlier (stopped) process logged are superseded.
    if (progress.step > 0) tensorboard->add_session_start(progress.step + 1);
  }

  std::map<long, std::vector<MicroBatch>> plans;
  auto micro_batch_at = [&](long k) -> const MicroBatch& {
    long epoch = k / per_epoch, pos = k % per_epoch;
    auto it = plans.find(epoch);
    if (it == plans.end()) {
      plans.clear();  // only the current epoch is needed
      it = plans.emplace(epoch, plan_epoch(lengths, static_cast<size_t>(tr.micro_batch), tr.group_by_length,
                                           setup.seed, epoch, tr.shuffle)).first;
    }
    return it->second.at(static_cast<size_t>(pos));
  };
  auto label_of = [&](size_t i) {
    if (tr.packing) {
      std::string s;
      for (size_t m : pack_members[i]) s += (s.empty() ? "" : " + ") + (m < data.train_labels.size() ? data.train_labels[m] : "#" + std::to_string(m));
      return s;
    }
    return i < data.train_labels.size() ? data.train_labels[i] : "sample #" + std::to_string(i);
  };

  ProgressLine line(setup.progress_tty);
  StopSignalScope signals;
  TrainingResult result;
  result.total_steps = total_steps;
  decoder.train();
  const torch::Device device = decoder.device();
  const Clock::time_point start = Clock::now();
  double train_seconds = 0;
  long tokens_here = 0;
  long last_saved = -1;

  auto save = [&]() {
    if (ckpt_dir.empty()) {
      if (setup.barrier) setup.barrier();
      return;
    }
    progress.loss_scale = scaler.scale;
    progress.loss_scale_good_steps = scaler.good_steps;
    result.last_checkpoint = save_training_checkpoint(ckpt_dir, decoder, optimizer, progress, content, tr.keep_last);
    last_saved = progress.step;
    if (setup.barrier) setup.barrier();
  };

  while (progress.step < total_steps) {
    if (sum_over_ranks(signals.requested() ? 1.0 : 0.0) > 0) {  // every rank stops at the same step
      result.interrupted = true;
      if (!quiet) line.message("stop requested (signal " + std::to_string(signals.signal_number()) +
                                     "): saving a checkpoint at step " + std::to_string(progress.step));
      break;
    }
    const Clock::time_point step_start = Clock::now();
    std::vector<Batch> batches;
    std::vector<MicroBatch> members;
    std::vector<torch::Tensor> weights;
    long step_tokens = 0;
    for (int a = 0; a < tr.grad_accum; ++a) {
      const MicroBatch& mb = micro_batch_at(progress.micro_batches + a * world + setup.rank);
      std::vector<const TrainSequence*> group;
      for (size_t i : mb) group.push_back(&(*seqs)[i]);
      batches.push_back(collate(group, setup.pad_id));
      members.push_back(mb);
      weights.push_back(batches.back().label_weights);
      step_tokens += batches.back().real_tokens;
    }
    const double denom = sum_over_ranks(step_denominator(weights, norm));  // the whole step's, over all ranks
    const double lr = schedule.at(progress.step);
    optimizer.zero_grad();
    double step_loss = 0;
    int bad = -1;
    for (size_t a = 0; a < batches.size(); ++a) {
      torch::Tensor ids = batches[a].input_ids.to(device);
      torch::Tensor logits = training_forward(decoder, ids, batches[a].attention_mask.to(device), tr.gradient_checkpointing);
      torch::Tensor loss = weighted_next_token_loss(logits, ids, batches[a].label_weights.to(device), denom);
      double lv = loss.item<double>();
      if (!std::isfinite(lv)) {
        bad = static_cast<int>(a);
        break;
      }
      scaler.scale_loss(loss).backward();
      step_loss += lv;
    }
    if (world > 1 && sum_over_ranks(bad >= 0 ? 1.0 : 0.0) > 0 && bad < 0) bad = 0;  // skip or stop together
    progress.micro_batches += tr.grad_accum * world;
    if (bad >= 0) {
      std::string who;
      for (size_t i : members[static_cast<size_t>(bad)]) who += (who.empty() ? "" : "; ") + label_of(i);
      std::string msg = "step " + std::to_string(progress.step + 1) + ": the loss is NaN/inf on micro-batch " +
                        std::to_string(bad + 1) + " (samples: " + who + ")";
      if (tr.nan_policy == "stop") {
        line.finish();
        throw Error(msg + "; stopping (train.nan_policy: skip would skip such steps)", kExitFailure);
      }
      optimizer.zero_grad();
      ++progress.skipped_steps;
      ++progress.step;
      if (!quiet) line.message(msg + "; step skipped");
      append_log(log_path, {{"step", progress.step}, {"skipped", true}, {"reason", "non-finite loss"}});
      continue;
    }
    if (setup.all_reduce_gradients) setup.all_reduce_gradients(params);
    step_loss = sum_over_ranks(step_loss);
    step_tokens = static_cast<long>(sum_over_ranks(static_cast<double>(step_tokens)));
    if (!scaler.unscale_and_check(params)) {
      optimizer.zero_grad();
      ++progress.skipped_steps;
      ++progress.step;
      append_log(log_path, {{"step", progress.step}, {"skipped", true}, {"reason", "fp16 overflow"},
                            {"loss_scale", scaler.scale}});
      continue;
    }
    ClipResult clip = clip_grad_norm(params, tr.max_grad_norm);
    optimizer.step(lr);
    ++progress.step;
    progress.tokens += step_tokens;
    tokens_here += step_tokens;
    train_seconds += seconds_since(step_start);
    if (result.losses.empty()) result.first_loss = step_loss;
    result.losses.push_back(step_loss);
    result.last_loss = step_loss;

    const double epoch = static_cast<double>(progress.micro_batches) / static_cast<double>(per_epoch);
    const double tps = train_seconds > 0 ? tokens_here / train_seconds : 0;
    const double per_step = train_seconds / static_cast<double>(result.losses.size());
    ProgressFigures fig;
    fig.step = progress.step;
    fig.total_steps = total_steps;
    fig.epoch = epoch;
    fig.loss = step_loss;
    fig.lr = lr;
    fig.tokens_per_s = tps;
    fig.eta_s = per_step * static_cast<double>(total_steps - progress.step);

    const bool last = progress.step == total_steps;
    const bool eval_now = !data.eval.empty() && ((tr.eval_every > 0 && progress.step % tr.eval_every == 0) || last);
    nlohmann::json entry = {{"step", progress.step},
                            {"epoch", epoch},
                            {"loss", step_loss},
                            {"lr", lr},
                            {"grad_norm", clip.total_norm},
                            {"tokens", progress.tokens},
                            {"tokens_per_s", tps},
                            {"rss_mb", static_cast<double>(current_rss_bytes()) / 1048576.0},
                            {"peak_rss_mb", static_cast<double>(peak_rss_bytes()) / 1048576.0},
                            {"elapsed_s", seconds_since(start)}};
    if (scaler.enabled) entry["loss_scale"] = scaler.scale;
    if (device.is_cuda()) {  // what the GPU holds, as torch.cuda.max_memory_allocated counts it
      const int index = device.has_index() ? device.index() : 0;
      entry["cuda_mb"] = static_cast<double>(cuda_allocated_bytes(index)) / 1048576.0;
      entry["cuda_peak_mb"] = static_cast<double>(cuda_peak_allocated_bytes(index)) / 1048576.0;
    }
    if (eval_now) {
      double el = evaluation_loss(decoder, data.eval, tr.micro_batch, setup.pad_id, norm);
      entry["eval_loss"] = el;
      fig.eval_loss = el;
      result.last_eval_loss = el;
      if (el < progress.best_eval_loss - 1e-12) {
        progress.best_eval_loss = el;
        progress.evals_without_improvement = 0;
      } else {
        ++progress.evals_without_improvement;
      }
    }
    if (eval_now || tr.log_every <= 1 || progress.step % tr.log_every == 0 || last) {
      append_log(log_path, entry);
      if (tensorboard) {
        std::vector<ScalarValue> scalars = {{"train/loss", static_cast<float>(step_loss)},
                                            {"train/lr", static_cast<float>(lr)},
                                            {"train/grad_norm", static_cast<float>(clip.total_norm)},
                                            {"train/tokens_per_s", static_cast<float>(tps)}};
        if (scaler.enabled) scalars.push_back({"train/loss_scale", static_cast<float>(scaler.scale)});
        if (eval_now) scalars.push_back({"eval/loss", static_cast<float>(entry["eval_loss"].get<double>())});
        tensorboard->add_scalars(progress.step, scalars);
      }
      if (!quiet) line.update(fig);
    }
    if (tr.save_every > 0 && progress.step % tr.save_every == 0 && !last) save();
    if (setup.after_step) setup.after_step(progress.step);
    if (eval_now && tr.early_stop_patience > 0 && progress.evals_without_improvement >= tr.early_stop_patience) {
      result.early_stopped = true;
      if (!quiet)
        line.message("early stop at step " + std::to_string(progress.step) + ": no eval-loss improvement in " +
                      std::to_string(tr.early_stop_patience) + " evaluations (best " +
                      std::to_string(progress.best_eval_loss) + ")");
      break;
    }
  }
  line.finish();
  result.steps = progress.step;
  result.tokens_per_s = train_seconds > 0 ? tokens_here / train_seconds : 0;
  if (last_saved != progress.step) save();

  if (!setup.run_dir.empty() && !result.interrupted && writer) {
    if (full) {
      save_decoder(decoder, setup.run_dir + "/model");
      for (const auto& f : setup.copy_to_final_model) {
        std::error_code ec;
        fs::copy_file(f, fs::path(setup.run_dir) / "model" / fs::path(f).filename(), fs::copy_options::overwrite_existing, ec);
      }
    } else {
      save_peft_adapter(decoder, setup.run_dir + "/adapter", setup.base_model_path);
    }
  }
  decoder.eval();
  return result;
}

}  // namespace psy
