#include "libpsy/run/train_run.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/core/json_file.h"
#include "libpsy/dist/gradient_buckets.h"
#include "libpsy/dist/process_group.h"
#include "libpsy/dist/torchrun_env.h"
#include "libpsy/dist/training_hooks.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/nn/nf4.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/nn/placement.h"
#include "libpsy/recipe/resume_settings.h"
#include "libpsy/run/recipe_dataset.h"
#include "libpsy/run/recipe_retrieval_hook.h"
#include "libpsy/run/run_folder.h"
#include "libpsy/run/torch_choices.h"
#include "libpsy/runtime/runtime.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/train/file_hash.h"
#include "libpsy/train/run_folder_files.h"
#include "libpsy/train/training_checkpoint.h"

namespace fs = std::filesystem;

namespace psy {

// Everything a run holds from set-up to finish (the loop keeps references into it).
struct TrainRunParts {
  Recipe recipe;
  TrainRunOptions options;
  dist::DistEnv denv;
  torch::Device device = torch::kCPU;
  std::unique_ptr<dist::ProcessGroup> group;
  std::optional<FolderLock> lock;  // one writer per run folder (ranks > 0 write nothing there)
  std::optional<Tokenizer> tokenizer;
  TrainingData data;
  nlohmann::ordered_json data_record;  // sessions and samples, for manifest.json
  Decoder decoder{nullptr};
  TrainingSetup setup;
  TrainRunFacts facts;
  std::unique_ptr<TrainingLoop> loop;

  bool notes() const { return !options.quiet && denv.rank == 0; }
};

namespace {

using Parts = TrainRunParts;

std::string git_commit() {
  FILE* p = popen("git rev-parse HEAD 2>/dev/null", "r");
  if (!p) return "unknown";
  char buf[128] = {0};
  std::string out = fgets(buf, sizeof buf, p) ? buf : "";
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

// The run folder a checkpoint belongs to: RUN for RUN/checkpoints/step-N, else the folder itself.
fs::path run_folder_of(const std::string& checkpoint) {
  const fs::path p = fs::path(checkpoint).lexically_normal();
  const fs::path parent = p.has_filename() ? p.parent_path() : p.parent_path().parent_path();
  return parent.filename() == "checkpoints" ? parent.parent_path() : p;
}

// --resume must not change what the run trains: its recipe.yaml (as it started) against the recipe
// now, and the data files' hashes in its manifest.json. Returns the allowed extensions.
std::vector<std::string> check_resume_against_run(const Recipe& now, const std::string& checkpoint) {
  const RunFolder run(run_folder_of(checkpoint).string());
  if (!fs::exists(run.recipe_path())) return {};
  const Recipe before = load_recipe(run.recipe_path());
  const ResumeCheck check = check_resume_settings(before, now, run.recipe_path());
  if (!fs::exists(run.manifest_path())) return check.extensions;
  const nlohmann::json manifest = read_json_file(run.manifest_path());
  if (!manifest.contains("data_files") || !manifest["data_files"].is_array()) return check.extensions;
  for (const auto& f : manifest["data_files"]) {
    const std::string path = f.value("path", "");
    if (path.empty() || !fs::exists(path)) continue;
    if (sha256_file(path) != f.value("sha256", ""))
      throw Error("--resume: data file '" + path + "' changed since the run started (sha256 in " + run.manifest_path() +
                  "): start a new run (--overwrite, or another output folder)");
  }
  return check.extensions;
}

// lora.init_adapter: the injected adapters take a PEFT adapter's values (e.g. the initial adapter
// PEFT made, to train from exactly where TRL starts). Its r, alpha and rsLoRA must be the
// recipe's, and it must cover exactly the projections the recipe's targets adapt.
void start_from_adapter(DecoderImpl& decoder, const Recipe& recipe) {
  const std::string& dir = recipe.lora.init_adapter;
  const PeftAdapterConfig c = load_peft_adapter_config(dir);
  auto differs = [&](const std::string& key, const std::string& theirs, const std::string& ours) {
    throw Error(dir + "/adapter_config.json: '" + key + "' is " + theirs + ", the recipe's lora." + key + " is " + ours +
                " (lora.init_adapter must match the recipe)");
  };
  if (c.r != recipe.lora.r) differs("r", std::to_string(c.r), std::to_string(recipe.lora.r));
  if (c.lora_alpha != recipe.lora.alpha) differs("alpha", nlohmann::json(c.lora_alpha).dump(), nlohmann::json(recipe.lora.alpha).dump());
  if (c.use_rslora != recipe.lora.rslora) differs("rslora", c.use_rslora ? "true" : "false", recipe.lora.rslora ? "true" : "false");
  int injected = 0;
  for (const auto& [path, p] : decoder.projections()) injected += p->has_lora() ? 1 : 0;
  const int loaded = load_peft_adapter(decoder, dir);
  int adapted = 0;
  for (const auto& [path, p] : decoder.projections()) adapted += p->has_lora() ? 1 : 0;
  if (loaded != injected || adapted != injected) {
    throw Error(dir + ": adapts " + std::to_string(loaded) + " projections, the recipe's lora.targets " +
                std::to_string(injected) + " (lora.init_adapter must cover exactly the recipe's targets)");
  }
}

// Threads, the device (one GPU per rank under data parallel), fp16 only on CUDA (checked before
// loading a 7B model), and the process group.
void set_up_devices(Parts& p) {
  const Recipe& r = p.recipe;
  p.facts.threads = set_threads(p.options.threads >= 0 ? p.options.threads : r.threads);
  p.denv = dist::read_dist_env();  // a single process unless started as a rank
  p.device = torch_device(r.first_device());
  if (p.device.is_cuda() && p.denv.distributed() && r.devices.parallel != ParallelMode::Layers)
    p.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(p.denv.local_rank));
  check_fp16_device(r.train.precision, r.model.dtype, p.device);
  p.group = std::make_unique<dist::ProcessGroup>(dist::ProcessGroup::join(p.denv, "auto", p.device));
  if (r.model.path.empty()) throw Error(r.source_path + ": model.path must name a Hugging Face model folder");
  if (r.data.path.empty()) throw Error(r.source_path + ": data.path must name at least one Psy-Insight file");
}

// The run folder: its lock (rank 0), files a killed run left, and --resume or --overwrite.
void set_up_run_folder(Parts& p) {
  const std::string& run_dir = p.recipe.output;
  p.facts.run_dir = run_dir;
  const bool rank0 = p.denv.rank == 0;
  if (rank0) p.lock.emplace(run_dir, "psy train");
  if (rank0)  // only the lock holder may delete files in the folder
    for (const auto& stale : clean_stale_files(run_dir))
      if (!p.options.quiet) std::cerr << "psy train: removed " << stale << " (left by a killed run)\n";
  if (!p.options.resume.empty()) {
    const std::string where = p.options.resume == kResumeLatest ? run_dir : p.options.resume;
    p.facts.resumed_from = find_latest_checkpoint(where);
    if (p.facts.resumed_from.empty())
      throw Error("--resume: no checkpoint found in '" + where + "'" +
                  (p.options.resume == kResumeLatest
                       ? std::string(" (the run stopped before its first checkpoint, train.save_every): start it "
                                     "again with --overwrite")
                       : std::string()));
    for (const auto& note : check_resume_against_run(p.recipe, p.facts.resumed_from))
      if (p.notes()) std::cerr << "psy train: resuming with " << note << " (extends the run)\n";
  } else if (holds_previous_run(run_dir)) {
    if (!p.options.overwrite)
      throw Error("run folder '" + run_dir + "' already holds a run (checkpoints, adapter/ or model/): continue with "
                  "--resume, or start again with --overwrite (which removes all of its outputs)");
    if (rank0) clear_run_outputs(run_dir);
  }
}

// The recipe's dataset: the seeded split, then samples for both sides (rag tasks retrieve from
// the training split's index, cached in the run folder).
void set_up_data(Parts& p) {
  const RecipeDataset dataset(p.recipe);
  p.tokenizer.emplace(load_recipe_tokenizer(p.recipe));
  if (!dataset.skipped_note().empty()) std::cerr << dataset.skipped_note() << "\n";
  const CaseRetrieval retrieval = recipe_case_retrieval(p.recipe);
  const SampleSet train = dataset.samples(SplitSide::Train, *p.tokenizer, retrieval);
  const SampleSet held_out = dataset.samples(SplitSide::Test, *p.tokenizer, retrieval);
  p.data = training_data(train, held_out);
  p.facts.train_samples = p.data.train.size();
  p.facts.eval_samples = p.data.eval.size();
  p.data_record["sessions"] = {{"train", dataset.train_sessions().size()}, {"test", dataset.test_sessions().size()}};
  p.data_record["samples"] = {{"train", p.data.train.size()}, {"test", p.data.eval.size()},
                              {"train_tokens", train.stats.tokens}, {"dropped_too_long", train.stats.dropped_too_long}};
}

// The model in the compute dtype on its device(s): NF4 (QLoRA), the layer split, the vocab check.
void set_up_model(Parts& p) {
  const Recipe& r = p.recipe;
  DecoderOptions dopt;
  dopt.device = p.device;
  p.facts.compute_dtype = choice_name(r.compute_dtype());
  p.facts.device = p.device.str();
  dopt.dtype = scalar_type_of(r.compute_dtype());
  p.decoder = load_decoder(r.model.path, dopt);
  if (r.model.quantization == Quantization::Nf4) quantize_decoder_nf4(*p.decoder, /*double_quant=*/true);  // QLoRA
  if (r.devices.parallel == ParallelMode::Layers) {
    std::vector<torch::Device> devices;
    for (const auto& d : r.devices.use) devices.push_back(torch_device(d));
    const LayerSplit split = plan_layer_split(*p.decoder, devices, r.devices.split);
    place_layers(*p.decoder, split);
    if (!p.options.quiet) std::cerr << "psy train: layer split\n" << describe_split(split);
  }
  if (p.decoder->config().vocab_size < p.tokenizer->vocab_size())
    throw Error("model " + r.model.path + ": vocab_size " + std::to_string(p.decoder->config().vocab_size) +
                " is smaller than the tokenizer's " + std::to_string(p.tokenizer->vocab_size()));
}

// LoRA mode: adapters injected (from the seed or lora.init_adapter), the same on every rank.
// Full mode trains every weight.
void set_up_trainable(Parts& p) {
  const Recipe& r = p.recipe;
  DecoderImpl& decoder = *p.decoder;
  p.facts.full = r.train.mode == TrainMode::Full;
  for (auto& prm : decoder.parameters()) p.facts.total_parameters += prm.numel();
  p.facts.trainable_parameters = p.facts.total_parameters;
  if (p.facts.full) return;
  if (r.lora.r > decoder.config().hidden_size)  // a rank above the width only allocates
    throw Error(r.source_path + ": field 'lora.r': " +
                expected_found("at most the model's hidden_size " + std::to_string(decoder.config().hidden_size),
                               std::to_string(r.lora.r)));
  LoraSpec spec;
  spec.r = r.lora.r;
  spec.alpha = r.lora.alpha;
  spec.dropout = r.lora.dropout;
  spec.rslora = r.lora.rslora;
  spec.targets = r.lora.targets;
  inject_lora(decoder, spec, static_cast<uint64_t>(r.seed));
  if (!r.lora.init_adapter.empty()) start_from_adapter(decoder, r);
  bool lm_head_adapted = false;
  for (const auto& [path, proj] : decoder.projections()) lm_head_adapted |= path == "lm_head" && proj->has_lora();
  if (lm_head_adapted && p.notes())
    std::cerr << "psy train: note: lora.targets includes lm_head; vLLM does not serve LoRA on lm_head: "
                 "serve this run merged (psy merge) or train without lm_head\n";
  p.facts.trainable_parameters = count_parameters(lora_parameters(decoder));
  std::vector<torch::Tensor> adapter;
  for (auto& named : lora_parameters(decoder)) adapter.push_back(named.second);
  dist::broadcast_parameters(*p.group, adapter);  // every rank starts from rank 0's adapter
}

// RUN/recipe.yaml (resolved) and RUN/manifest.json: what the run is and what it ran on.
void write_run_record(Parts& p) {
  const Recipe& r = p.recipe;
  const RunFolder run(r.output);
  make_dirs(run.dir());
  if (p.denv.rank != 0) return;
  write_file_atomic(run.recipe_path(), recipe_to_yaml(r, true));
  const RuntimeInfo info = runtime_info();
  nlohmann::ordered_json manifest;
  manifest["psy_version"] = p.options.psy_version;
  manifest["git_commit"] = git_commit();
  manifest["libtorch_version"] = info.torch_version;
  manifest["device"] = p.facts.device;
  manifest["threads"] = p.facts.threads;
  manifest["blas"] = info.blas;
  manifest["seed"] = r.seed;
  manifest["recipe"] = r.source_path;
  manifest["model"] = r.model.path;
  manifest["compute_dtype"] = p.facts.compute_dtype;
  manifest["tokenizer"] = r.tokenizer_location();
  manifest["mode"] = r.train.mode;
  manifest["trainable_parameters"] = p.facts.trainable_parameters;
  manifest["total_parameters"] = p.facts.total_parameters;
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& f : r.data.path) files.push_back({{"path", f}, {"sha256", sha256_file(f)}});
  manifest["data_files"] = files;
  manifest["sessions"] = p.data_record["sessions"];
  manifest["samples"] = p.data_record["samples"];
  manifest["resumed_from"] = p.facts.resumed_from;
  manifest["world_size"] = p.denv.world_size;
  write_file_atomic(run.manifest_path(), manifest.dump(2) + "\n");
}

// The loop's settings: the train section, the seed, padding, the run folder, resume, the
// tokenizer files copied into a full model, and the process group's hooks.
void set_up_loop_settings(Parts& p) {
  const Recipe& r = p.recipe;
  TrainingSetup& s = p.setup;
  s.train = r.train;
  s.seed = static_cast<uint64_t>(r.seed);
  s.pad_id = p.tokenizer->pad_id() >= 0 ? p.tokenizer->pad_id() : 0;
  s.max_seq_len = r.data.max_seq_len;
  s.run_dir = r.output;
  s.base_model_path = r.model.path;
  s.resume_from = p.facts.resumed_from;
  s.quiet = p.options.quiet || p.denv.rank != 0;
  dist::attach_process_group(*p.group, s);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json",
                        "generation_config.json"}) {
    const fs::path src = fs::path(r.model.path) / f;
    if (fs::exists(src)) s.copy_to_final_model.push_back(src.string());
  }
  p.facts.writer = p.denv.rank == 0;
}

}  // namespace

std::vector<TrainSequence> to_sequences(const std::vector<TokenizedSample>& samples, std::vector<std::string>* labels) {
  std::vector<TrainSequence> out;
  out.reserve(samples.size());
  for (const auto& s : samples) {
    TrainSequence t;
    t.ids.assign(s.input_ids.begin(), s.input_ids.end());
    t.weights = s.loss_weights;
    out.push_back(std::move(t));
    if (labels)
      labels->push_back("dialog " + s.session_id + (s.turn_id.empty() ? "" : " turn " + s.turn_id) + " (" + s.task + ")");
  }
  return out;
}

TrainingData training_data(const SampleSet& train, const SampleSet& held_out) {
  TrainingData data;
  data.train = to_sequences(train.samples, &data.train_labels);
  data.eval = to_sequences(held_out.samples, nullptr);
  return data;
}

TrainRun::TrainRun(const Recipe& recipe, const TrainRunOptions& options) : parts_(std::make_unique<TrainRunParts>()) {
  Parts& p = *parts_;
  p.recipe = recipe;
  p.options = options;
  set_up_devices(p);
  set_up_run_folder(p);
  set_up_data(p);
  set_up_model(p);
  set_up_trainable(p);
  write_run_record(p);
  set_up_loop_settings(p);
}

TrainRun::~TrainRun() = default;

const TrainRunFacts& TrainRun::facts() const { return parts_->facts; }

// The loop starts at the first call (after psy train printed its summary): it loads a resumed
// checkpoint and opens the logs.
bool TrainRun::done() {
  Parts& p = *parts_;
  if (!p.loop) p.loop = std::make_unique<TrainingLoop>(*p.decoder, p.data, p.setup);
  return p.loop->done();
}

void TrainRun::step() {
  if (!done()) parts_->loop->step();
}

TrainingResult TrainRun::finish() {
  done();
  return parts_->loop->finish();
}

}  // namespace psy
