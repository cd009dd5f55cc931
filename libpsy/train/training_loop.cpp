#include "libpsy/train/training_loop.h"

#include <algorithm>
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
#include "libpsy/core/jsonl_reader.h"
#include "libpsy/core/steady_clock.h"
#include "libpsy/io/tensorboard_writer.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/run/run_folder.h"
#include "libpsy/runtime/cuda_memory.h"
#include "libpsy/train/adamw.h"
#include "libpsy/train/batch_plan.h"
#include "libpsy/train/chunked_head_loss.h"
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

// Keeps the log lines of steps <= `step` (a resumed run rewrites what came after its checkpoint).
// A last line torn by a kill is dropped; a damaged line elsewhere is an error naming it.
void truncate_log(const std::string& path, long step) {
  if (!fs::exists(path)) return;
  std::string kept;
  JsonlOptions options;
  options.torn_last_line = TornLastLine::Drop;
  options.objects_only = true;
  for_each_jsonl_line(path, [&](const JsonLine& line) {
    if (line.value.value("step", 0L) <= step) kept += line.value.dump() + "\n";
  }, options);
  write_file_atomic(path, kept);
}

void append_log(const std::string& path, const nlohmann::json& entry) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  out << entry.dump() + "\n";  // one write: a kill leaves at most a torn last line
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
  check_fp16_device(tr.precision, WeightDtype::Fp32, decoder.device());
  for (const auto& p : decoder.parameters())
    if (p.scalar_type() == torch::kHalf) check_fp16_device(WeightDtype::Fp32, WeightDtype::Fp16, p.device());
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
    torch::Tensor h = training_hidden(decoder, ids, b.attention_mask.to(dev), false);  // chunked lm_head: no full logits
    sum += chunked_head_weighted_ce_sum(decoder.lm_head, h, ids, w).item<double>();
    denom += loss_denominator(b.label_weights, norm);
  }
  if (was_training) decoder.train();
  return denom > 0 ? sum / denom : 0.0;
}

// LibTorch 1.13 has no fp16 matrix multiplication on CPU ("addmm_impl_cpu_" not implemented for
// 'Half'), and fp16 on a CPU would gain nothing over bf16 anyway: refuse with the keys to change.
void check_fp16_device(WeightDtype precision, WeightDtype model_dtype, const torch::Device& device) {
  if (device.is_cpu() && (precision == WeightDtype::Fp16 || model_dtype == WeightDtype::Fp16))
    throw Error("train.precision / model.dtype: fp16 needs a CUDA device (devices.use: [cuda:0]); psy does not "
                "train fp16 on CPU (LibTorch 1.13 has no fp16 matrix multiplication there): on CPU set "
                "train.precision (and model.dtype) to bf16 or fp32");
}

// The loop's state: what set-up makes (trainable parameters, optimizer, the sequences and their
// plan, the schedule, the resumed progress, the log files) and what the steps carry along.
struct TrainingLoopState {
  TrainingLoopState(DecoderImpl& d, const TrainingData& td, const TrainingSetup& s)
      : decoder(d), data(td), setup(s), tr(setup.train), line(setup.progress_tty) {}

  DecoderImpl& decoder;
  const TrainingData& data;
  const TrainingSetup setup;
  const TrainSection& tr;
  bool full = false, writer = true, quiet = false;
  long world = 1;
  PlwNormalization norm = PlwNormalization::WeightSum;

  std::vector<torch::Tensor> params;
  CheckpointContent content;
  std::optional<AdamW> optimizer;

  std::vector<TrainSequence> packed;             // train.packing: the packs
  std::vector<std::vector<size_t>> pack_members;  // per pack, its samples
  const std::vector<TrainSequence>* seqs = nullptr;  // what is trained on (packed or not)
  std::vector<size_t> lengths;
  long per_epoch = 1;
  LrSchedule schedule;
  LossScaler scaler;
  std::map<long, std::vector<MicroBatch>> plans;  // only the current epoch's

  TrainerProgress progress;
  std::string log_path, ckpt_dir;
  std::optional<TensorBoardWriter> tensorboard;

  ProgressLine line;
  StopSignalScope signals;
  TrainingResult result;
  Clock::time_point start;
  double train_seconds = 0;
  long tokens_here = 0;
  long last_saved = -1;
  bool stopped = false;  // interrupted or early-stopped

  double sum_over_ranks(double v) const { return setup.all_reduce_sum ? setup.all_reduce_sum(v) : v; }
};

namespace {

using LoopState = TrainingLoopState;

// One optimizer step's micro-batches (this rank's share).
struct StepBatches {
  std::vector<Batch> batches;
  std::vector<MicroBatch> members;
  std::vector<torch::Tensor> weights;
  long tokens = 0;
};

void check_inputs(const LoopState& st) {
  if (st.tr.micro_batch < 1 || st.tr.grad_accum < 1)
    throw Error("train.micro_batch and train.grad_accum: " + expected_found("at least 1", "a smaller value"));
  if (st.data.train.empty()) throw Error("training: the training split holds no samples");
  check_sequences(st.data.train, "train");
  check_sequences(st.data.eval, "eval");
  check_precision_fits_device(st.tr, st.decoder);
}

// Trainable parameters (LoRA adapters, or every weight in full mode) and AdamW over them.
void set_up_optimizer(LoopState& st) {
  std::vector<std::pair<std::string, torch::Tensor>> named =
      st.full ? enable_full_training(st.decoder) : lora_parameters(st.decoder);
  if (named.empty()) throw Error("training: no trainable parameters (LoRA mode without adapters?)");
  std::vector<bool> decay;
  st.content.mode = choice_name(st.tr.mode);
  st.content.base_model_path = st.setup.base_model_path;
  for (auto& [n, t] : named) {
    st.params.push_back(t);
    decay.push_back(!st.full || t.dim() >= 2);  // full FT: no decay on norm weights
    st.content.param_names.push_back(n);
  }
  AdamWOptions aopt;
  aopt.lr = st.tr.lr;
  aopt.weight_decay = st.tr.weight_decay;
  st.optimizer.emplace(st.params, aopt, decay);
}

// The sequences trained on (packed or not), the steps they make, and the schedule over them.
void set_up_plan(LoopState& st) {
  const TrainSection& tr = st.tr;
  st.seqs = &st.data.train;
  if (tr.packing) {
    std::vector<size_t> lens;
    for (const auto& s : st.data.train) lens.push_back(s.ids.size());
    st.pack_members = plan_packs(lens, static_cast<size_t>(st.setup.max_seq_len), st.setup.seed);
    for (const auto& bin : st.pack_members) {
      std::vector<const TrainSequence*> parts;
      for (size_t i : bin) parts.push_back(&st.data.train[i]);
      st.packed.push_back(pack_sequences(parts));
    }
    st.seqs = &st.packed;
  }
  for (const auto& s : *st.seqs) st.lengths.push_back(s.ids.size());
  st.per_epoch = static_cast<long>((st.seqs->size() + tr.micro_batch - 1) / tr.micro_batch);
  const long total_steps =
      tr.max_steps > 0 ? tr.max_steps
                       : std::max(1L, static_cast<long>(std::ceil(tr.epochs * st.per_epoch / (tr.grad_accum * st.world) - 1e-9)));
  st.schedule.kind = tr.schedule;
  st.schedule.lr = tr.lr;
  st.schedule.total_steps = total_steps;
  st.schedule.warmup_steps = resolve_warmup_steps(total_steps, tr.warmup_steps, tr.warmup_ratio);
  st.schedule.min_lr_ratio = tr.min_lr_ratio;
  st.scaler.enabled = tr.precision == WeightDtype::Fp16;
  st.result.total_steps = total_steps;
}

// A fresh run or a resumed one: the checkpoint's state, log.jsonl and TensorBoard files.
void set_up_progress_and_logs(LoopState& st) {
  torch::manual_seed(st.setup.seed);
  if (!st.setup.resume_from.empty())
    st.progress = load_training_checkpoint(st.setup.resume_from, st.decoder, *st.optimizer, st.content);
  st.scaler.scale = st.progress.loss_scale;
  st.scaler.good_steps = st.progress.loss_scale_good_steps;
  const RunFolder run(st.setup.run_dir);
  const bool writes = !run.dir().empty() && st.writer;
  st.log_path = writes ? run.log_path() : "";
  st.ckpt_dir = writes ? run.checkpoints_dir() : "";
  if (!writes) return;
  make_dirs(run.dir());
  if (st.progress.step > 0) truncate_log(st.log_path, st.progress.step);
  else write_file_atomic(st.log_path, "");
  if (!st.tr.tensorboard) return;
  const std::string tb_dir = run.tensorboard_dir();
  if (st.progress.step == 0) remove_event_files(tb_dir);
  st.tensorboard.emplace(tb_dir);
  // Steps after the checkpoint that an earlier (stopped) process logged are superseded.
  if (st.progress.step > 0) st.tensorboard->add_session_start(st.progress.step + 1);
}

const MicroBatch& micro_batch_at(LoopState& st, long k) {
  const long epoch = k / st.per_epoch, pos = k % st.per_epoch;
  auto it = st.plans.find(epoch);
  if (it == st.plans.end()) {
    st.plans.clear();  // only the current epoch is needed
    it = st.plans.emplace(epoch, plan_epoch(st.lengths, static_cast<size_t>(st.tr.micro_batch), st.tr.group_by_length,
                                            st.setup.seed, epoch, st.tr.shuffle)).first;
  }
  return it->second.at(static_cast<size_t>(pos));
}

// "dialog 000708 turn 292-1 (task)" for sample i of what is trained on (its members when packed).
std::string label_of(const LoopState& st, size_t i) {
  const auto& labels = st.data.train_labels;
  if (st.tr.packing) {
    std::string s;
    for (size_t m : st.pack_members[i]) s += (s.empty() ? "" : " + ") + (m < labels.size() ? labels[m] : "#" + std::to_string(m));
    return s;
  }
  return i < labels.size() ? labels[i] : "sample #" + std::to_string(i);
}

StepBatches gather_micro_batches(LoopState& st) {
  StepBatches out;
  for (int a = 0; a < st.tr.grad_accum; ++a) {
    const MicroBatch& mb = micro_batch_at(st, st.progress.micro_batches + a * st.world + st.setup.rank);
    std::vector<const TrainSequence*> group;
    for (size_t i : mb) group.push_back(&(*st.seqs)[i]);
    out.batches.push_back(st.tr.padding_free ? collate_padding_free(group, st.setup.pad_id) : collate(group, st.setup.pad_id));
    out.members.push_back(mb);
    out.weights.push_back(out.batches.back().label_weights);
    out.tokens += out.batches.back().real_tokens;
  }
  return out;
}

// Forward and backward over the step's micro-batches with the step-wide denominator. Returns the
// index of the first micro-batch with a non-finite loss (its backward is not run), or -1.
int forward_backward(LoopState& st, const StepBatches& step, double denom, double& step_loss) {
  const torch::Device device = st.decoder.device();
  for (size_t a = 0; a < step.batches.size(); ++a) {
    const Batch& b = step.batches[a];
    torch::Tensor ids = b.input_ids.to(device);
    torch::Tensor loss = training_loss(st.decoder, ids, b.attention_mask.to(device), b.label_weights.to(device), denom,
                                       st.tr.gradient_checkpointing);  // chunked lm_head (train_forward.h)
    const double lv = loss.item<double>();
    if (!std::isfinite(lv)) return static_cast<int>(a);
    st.scaler.scale_loss(loss).backward();
    step_loss += lv;
  }
  return -1;
}

// A step that is not taken (NaN/inf loss under nan_policy skip, or an fp16 overflow): counted and logged.
void skip_step(LoopState& st, nlohmann::json entry) {
  st.optimizer->zero_grad();
  ++st.progress.skipped_steps;
  ++st.progress.step;
  entry["step"] = st.progress.step;
  entry["skipped"] = true;
  append_log(st.log_path, entry);
}

// NaN/inf on micro-batch `bad`: stop the run (nan_policy stop) naming the step and samples, or skip the step.
void on_non_finite_loss(LoopState& st, const StepBatches& step, int bad) {
  std::string who;
  for (size_t i : step.members[static_cast<size_t>(bad)]) who += (who.empty() ? "" : "; ") + label_of(st, i);
  const std::string msg = "step " + std::to_string(st.progress.step + 1) + ": the loss is NaN/inf on micro-batch " +
                          std::to_string(bad + 1) + " (samples: " + who + ")";
  if (st.tr.nan_policy == NanPolicy::Stop) {
    st.line.finish();
    throw Error(msg + "; stopping (train.nan_policy: skip would skip such steps)", kExitFailure);
  }
  st.optimizer->zero_grad();
  ++st.progress.skipped_steps;
  ++st.progress.step;
  if (!st.quiet) st.line.message(msg + "; step skipped");
  append_log(st.log_path, {{"step", st.progress.step}, {"skipped", true}, {"reason", "non-finite loss"}});
}

// The log line of a step just taken.
nlohmann::json step_entry(const LoopState& st, double step_loss, double lr, double grad_norm, double epoch, double tps) {
  nlohmann::json entry = {{"step", st.progress.step},
                          {"epoch", epoch},
                          {"loss", step_loss},
                          {"lr", lr},
                          {"grad_norm", grad_norm},
                          {"tokens", st.progress.tokens},
                          {"tokens_per_s", tps},
                          {"rss_mb", static_cast<double>(current_rss_bytes()) / 1048576.0},
                          {"peak_rss_mb", static_cast<double>(peak_rss_bytes()) / 1048576.0},
                          {"elapsed_s", seconds_since(st.start)}};
  if (st.scaler.enabled) entry["loss_scale"] = st.scaler.scale;
  const torch::Device device = st.decoder.device();
  if (device.is_cuda()) {  // what the GPU holds, as torch.cuda.max_memory_allocated counts it
    const int index = device.has_index() ? device.index() : 0;
    entry["cuda_mb"] = static_cast<double>(cuda_allocated_bytes(index)) / 1048576.0;
    entry["cuda_peak_mb"] = static_cast<double>(cuda_peak_allocated_bytes(index)) / 1048576.0;
  }
  return entry;
}

// Held-out loss into the entry and the figures; tracks the best for early stopping.
void evaluate(LoopState& st, nlohmann::json& entry, ProgressFigures& fig) {
  const double el = evaluation_loss(st.decoder, st.data.eval, st.tr.micro_batch, st.setup.pad_id, st.norm);
  entry["eval_loss"] = el;
  fig.eval_loss = el;
  st.result.last_eval_loss = el;
  if (el < st.progress.best_eval_loss - 1e-12) {
    st.progress.best_eval_loss = el;
    st.progress.evals_without_improvement = 0;
  } else {
    ++st.progress.evals_without_improvement;
  }
}

void write_step_log(LoopState& st, const nlohmann::json& entry, const ProgressFigures& fig) {
  append_log(st.log_path, entry);
  if (st.tensorboard) {
    std::vector<ScalarValue> scalars = {{"train/loss", static_cast<float>(entry["loss"].get<double>())},
                                        {"train/lr", static_cast<float>(entry["lr"].get<double>())},
                                        {"train/grad_norm", static_cast<float>(entry["grad_norm"].get<double>())},
                                        {"train/tokens_per_s", static_cast<float>(entry["tokens_per_s"].get<double>())}};
    if (st.scaler.enabled) scalars.push_back({"train/loss_scale", static_cast<float>(st.scaler.scale)});
    if (entry.contains("eval_loss"))
      scalars.push_back({"eval/loss", static_cast<float>(entry["eval_loss"].get<double>())});
    st.tensorboard->add_scalars(st.progress.step, scalars);
  }
  if (!st.quiet) st.line.update(fig);
}

void save_checkpoint(LoopState& st) {
  if (!st.ckpt_dir.empty()) {
    st.progress.loss_scale = st.scaler.scale;
    st.progress.loss_scale_good_steps = st.scaler.good_steps;
    st.result.last_checkpoint =
        save_training_checkpoint(st.ckpt_dir, st.decoder, *st.optimizer, st.progress, st.content, st.tr.keep_last);
    st.last_saved = st.progress.step;
  }
  if (st.setup.barrier) st.setup.barrier();
}

// After a step is taken: its log line, evaluation, periodic checkpoint, the after_step hook,
// and early stopping.
void after_step_taken(LoopState& st, double step_loss, double lr, double grad_norm) {
  const TrainSection& tr = st.tr;
  const double epoch = static_cast<double>(st.progress.micro_batches) / static_cast<double>(st.per_epoch);
  const double tps = st.train_seconds > 0 ? st.tokens_here / st.train_seconds : 0;
  const double per_step = st.train_seconds / static_cast<double>(st.result.losses.size());
  const long total_steps = st.result.total_steps;
  ProgressFigures fig;
  fig.step = st.progress.step;
  fig.total_steps = total_steps;
  fig.epoch = epoch;
  fig.loss = step_loss;
  fig.lr = lr;
  fig.tokens_per_s = tps;
  fig.eta_s = per_step * static_cast<double>(total_steps - st.progress.step);
  const bool last = st.progress.step == total_steps;
  const bool eval_now = !st.data.eval.empty() && ((tr.eval_every > 0 && st.progress.step % tr.eval_every == 0) || last);
  nlohmann::json entry = step_entry(st, step_loss, lr, grad_norm, epoch, tps);
  if (eval_now) evaluate(st, entry, fig);
  if (eval_now || tr.log_every <= 1 || st.progress.step % tr.log_every == 0 || last) write_step_log(st, entry, fig);
  if (tr.save_every > 0 && st.progress.step % tr.save_every == 0 && !last) save_checkpoint(st);
  if (st.setup.after_step) st.setup.after_step(st.progress.step);
  if (eval_now && tr.early_stop_patience > 0 && st.progress.evals_without_improvement >= tr.early_stop_patience) {
    st.result.early_stopped = true;
    st.stopped = true;
    if (!st.quiet)
      st.line.message("early stop at step " + std::to_string(st.progress.step) + ": no eval-loss improvement in " +
                      std::to_string(tr.early_stop_patience) + " evaluations (best " +
                      std::to_string(st.progress.best_eval_loss) + ")");
  }
}

// The end of a completed run: adapter/ (PEFT format) or model/ (Hugging Face format).
void save_final_weights(LoopState& st) {
  const RunFolder run(st.setup.run_dir);
  if (!st.full) {
    save_peft_adapter(st.decoder, run.adapter_dir(), st.setup.base_model_path);
    return;
  }
  save_decoder(st.decoder, run.model_dir());
  for (const auto& f : st.setup.copy_to_final_model) {
    std::error_code ec;
    fs::copy_file(f, fs::path(run.model_dir()) / fs::path(f).filename(), fs::copy_options::overwrite_existing, ec);
  }
}

}  // namespace

TrainingLoop::TrainingLoop(DecoderImpl& decoder, const TrainingData& data, const TrainingSetup& setup)
    : st_(std::make_unique<TrainingLoopState>(decoder, data, setup)) {
  TrainingLoopState& st = *st_;
  st.full = st.tr.mode == TrainMode::Full;
  check_inputs(st);
  st.norm = st.tr.plw_normalization == LossDenominator::NonzeroTokens ? PlwNormalization::NonzeroTokens
                                                                       : PlwNormalization::WeightSum;
  st.world = std::max(1, setup.world_size);
  st.writer = setup.rank == 0;  // data parallel: rank 0 writes
  st.quiet = setup.quiet || !st.writer;
  set_up_optimizer(st);
  set_up_plan(st);
  set_up_progress_and_logs(st);
  decoder.train();
  st.start = Clock::now();
}

TrainingLoop::~TrainingLoop() = default;

bool TrainingLoop::done() const { return st_->stopped || st_->progress.step >= st_->result.total_steps; }

long TrainingLoop::total_steps() const { return st_->result.total_steps; }

void TrainingLoop::step() {
  TrainingLoopState& st = *st_;
  if (st.sum_over_ranks(st.signals.requested() ? 1.0 : 0.0) > 0) {  // every rank stops at the same step
    st.result.interrupted = true;
    st.stopped = true;
    if (!st.quiet)
      st.line.message("stop requested (signal " + std::to_string(st.signals.signal_number()) +
                      "): saving a checkpoint at step " + std::to_string(st.progress.step));
    return;
  }
  const Clock::time_point step_start = Clock::now();
  StepBatches batches = gather_micro_batches(st);
  const double denom = st.sum_over_ranks(step_denominator(batches.weights, st.norm));  // the whole step's, over all ranks
  const double lr = st.schedule.at(st.progress.step);
  st.optimizer->zero_grad();
  double step_loss = 0;
  int bad = forward_backward(st, batches, denom, step_loss);
  if (st.world > 1 && st.sum_over_ranks(bad >= 0 ? 1.0 : 0.0) > 0 && bad < 0) bad = 0;  // skip or stop together
  st.progress.micro_batches += st.tr.grad_accum * st.world;
  if (bad >= 0) return on_non_finite_loss(st, batches, bad);
  if (st.setup.all_reduce_gradients) st.setup.all_reduce_gradients(st.params);
  step_loss = st.sum_over_ranks(step_loss);
  const long step_tokens = static_cast<long>(st.sum_over_ranks(static_cast<double>(batches.tokens)));
  if (!st.scaler.unscale_and_check(st.params))
    return skip_step(st, {{"reason", "fp16 overflow"}, {"loss_scale", st.scaler.scale}});
  const ClipResult clip = clip_grad_norm(st.params, st.tr.max_grad_norm);
  st.optimizer->step(lr);
  ++st.progress.step;
  st.progress.tokens += step_tokens;
  st.tokens_here += step_tokens;
  st.train_seconds += seconds_since(step_start);
  if (st.result.losses.empty()) st.result.first_loss = step_loss;
  st.result.losses.push_back(step_loss);
  st.result.last_loss = step_loss;
  after_step_taken(st, step_loss, lr, clip.total_norm);
}

TrainingResult TrainingLoop::finish() {
  TrainingLoopState& st = *st_;
  st.line.finish();
  st.result.steps = st.progress.step;
  st.result.tokens_per_s = st.train_seconds > 0 ? st.tokens_here / st.train_seconds : 0;
  if (st.last_saved != st.progress.step) save_checkpoint(st);
  if (!st.setup.run_dir.empty() && !st.result.interrupted && st.writer) save_final_weights(st);
  st.decoder.eval();
  return st.result;
}

TrainingResult run_training(DecoderImpl& decoder, const TrainingData& data, const TrainingSetup& setup) {
  TrainingLoop loop(decoder, data, setup);
  while (!loop.done()) loop.step();
  return loop.finish();
}

}  // namespace psy
