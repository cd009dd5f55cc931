// psy train: LoRA (or full) supervised fine-tuning from a recipe.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/core/json_file.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/dist/gradient_buckets.h"
#include "libpsy/dist/training_hooks.h"
#include "libpsy/dist/launcher.h"
#include "libpsy/nn/nf4.h"
#include "libpsy/nn/placement.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/data/sample_options.h"
#include "libpsy/data/split.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/retrieval/recipe_retrieval.h"
#include "libpsy/recipe/resume_settings.h"
#include "libpsy/runtime/runtime.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/train/file_hash.h"
#include "libpsy/train/run_folder_files.h"
#include "libpsy/train/training_checkpoint.h"
#include "libpsy/train/training_loop.h"
#include "trainers/commands.h"

namespace fs = std::filesystem;

namespace psy::cli {

namespace {

constexpr const char* kAutoResume = "<latest>";

bool ends_with_yaml(const std::string& s) {
  auto ends = [&](const std::string& suf) { return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0; };
  return ends(".yaml") || ends(".yml");
}

// `--resume` takes an optional folder: when the next argument is missing, another option or a
// key=value override, it means "the run folder's latest checkpoint".
std::vector<std::string> expand_resume(const Args& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--resume") {
      bool has_value = i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0 &&
                       args[i + 1].find('=') == std::string::npos &&
                       !ends_with_yaml(args[i + 1]);
      if (has_value) {
        out.push_back("--resume=" + args[i + 1]);
        ++i;
      } else {
        out.push_back(std::string("--resume=") + kAutoResume);
      }
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

std::string git_commit() {
  FILE* p = popen("git rev-parse HEAD 2>/dev/null", "r");
  if (!p) return "unknown";
  char buf[128] = {0};
  std::string out = fgets(buf, sizeof buf, p) ? buf : "";
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::vector<TrainSequence> to_sequences(const std::vector<TokenizedSample>& samples, std::vector<std::string>* labels) {
  std::vector<TrainSequence> out;
  out.reserve(samples.size());
  for (const auto& s : samples) {
    TrainSequence t;
    t.ids.assign(s.input_ids.begin(), s.input_ids.end());
    t.weights = s.loss_weights;
    out.push_back(std::move(t));
    if (labels) labels->push_back("dialog " + s.session_id + (s.turn_id.empty() ? "" : " turn " + s.turn_id) +
                                  " (" + s.task + ")");
  }
  return out;
}

std::string tokenizer_location(const Recipe& r) {
  if (!r.model.tokenizer.empty()) return r.model.tokenizer;
  if (!r.model.path.empty()) return r.model.path;
  throw Error(r.source_path + ": model.tokenizer (or model.path) must name a SentencePiece tokenizer");
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
  const fs::path run = run_folder_of(checkpoint);
  const fs::path before_path = run / "recipe.yaml";
  if (!fs::exists(before_path)) return {};
  const Recipe before = load_recipe(before_path.string());
  const ResumeCheck check = check_resume_settings(before, now, before_path.string());
  const fs::path manifest_path = run / "manifest.json";
  if (fs::exists(manifest_path)) {
    const nlohmann::json manifest = read_json_file(manifest_path.string());
    if (manifest.contains("data_files") && manifest["data_files"].is_array()) {
      for (const auto& f : manifest["data_files"]) {
        const std::string path = f.value("path", "");
        if (path.empty() || !fs::exists(path)) continue;
        if (sha256_file(path) != f.value("sha256", ""))
          throw Error("--resume: data file '" + path + "' changed since the run started (sha256 in " +
                      manifest_path.string() + "): start a new run (--overwrite, or another output folder)");
      }
    }
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

}  // namespace

int cmd_train(const Args& raw_args) {
  ArgParser p("psy train",
              "Fine-tune a model as a recipe describes: LoRA (train.mode: lora) or all weights (train.mode: full).\n"
              "Writes RUN/recipe.yaml (resolved), RUN/manifest.json, RUN/log.jsonl, RUN/checkpoints/step-N/ and\n"
              "at the end RUN/adapter/ (PEFT format) or RUN/model/ (Hugging Face format); RUN = the recipe's output.");
  p.positional("RECIPE", "recipe YAML file")
      .positional("OVERRIDES", "key.path=value overrides of the recipe (e.g. train.lr=1e-4)", false, true)
      .option("resume", "DIR", "continue from DIR's latest checkpoint (DIR: a run folder or a checkpoint; "
                               "given without DIR: the recipe's run folder)", "")
      .option("threads", "N", "CPU threads (overrides the recipe's threads; 0 = all cores)", "")
      .flag("overwrite", "start afresh even when the run folder already holds checkpoints (they are removed)")
      .flag("quiet", "no progress output on stderr")
      .option("nproc", "N", "data parallel: start N ranks on this machine (Gloo on CPU, NCCL on CUDA); "
                            "leave out under torchrun/srun, which start the ranks themselves", "1");
  auto a = p.parse(expand_resume(raw_args));
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (auto code = dist::launch_ranks_if_requested("train", raw_args, static_cast<int>(a.get_long("nproc")))) return *code;
  const dist::DistEnv denv = dist::read_dist_env();  // a single process unless started as a rank

  Recipe recipe = load_recipe(a.get("RECIPE"), a.list("OVERRIDES"));
  if (a.given("threads") && (a.get_long("threads") < 0 || a.get_long("threads") > 4096))
    throw Error("psy train: --threads " + expected_found("0 (all cores) to 4096", a.get("threads")));
  const int threads = set_threads(a.given("threads") ? static_cast<int>(a.get_long("threads")) : recipe.threads);
  const bool layer_split = recipe.devices.parallel == "layers";
  if ((recipe.devices.use.size() > 1 && !layer_split && recipe.devices.parallel != "data") ||
      (recipe.devices.parallel != "none" && recipe.devices.parallel != "data" && !layer_split))
    throw Error("devices: psy train runs on one device; " +
                expected_found("one entry in devices.use and parallel: none", std::to_string(recipe.devices.use.size()) +
                                                                            " devices, parallel: " + recipe.devices.parallel));
  torch::Device device(recipe.devices.use.empty() ? std::string("cpu") : recipe.devices.use[0]);
  if (device.is_cuda() && denv.distributed() && !layer_split)  // one GPU per rank
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(denv.local_rank));
  check_fp16_device(recipe.train.precision, recipe.model.dtype, device);  // before loading a 7B model
  const dist::ProcessGroup group = dist::ProcessGroup::join(denv, "auto", device);
  if (recipe.model.path.empty()) throw Error(recipe.source_path + ": model.path must name a Hugging Face model folder");
  if (recipe.data.path.empty()) throw Error(recipe.source_path + ": data.path must name at least one Psy-Insight file");
  const bool full = recipe.train.mode == "full";
  if (full && (recipe.train.precision != "fp32" || recipe.model.dtype != "fp32"))
    throw Error("train.mode full: " + expected_found("model.dtype fp32 and train.precision fp32 (fp32 master weights)",
                                                    recipe.model.dtype + " / " + recipe.train.precision));
  if (recipe.model.quantization != "none" && (recipe.model.quantization != "nf4" || full))
    throw Error("model.quantization: " + expected_found("none, or nf4 with train.mode lora", recipe.model.quantization));

  const std::string run_dir = recipe.output;
  std::optional<FolderLock> lock;  // one writer per run folder (ranks > 0 write nothing there)
  if (denv.rank == 0) lock.emplace(run_dir, "psy train");
  if (denv.rank == 0)  // only the lock holder may delete files in the folder
    for (const auto& stale : clean_stale_files(run_dir))
      if (!a.flag("quiet")) std::cerr << "psy train: removed " << stale << " (left by a killed run)\n";
  std::string resume_from;
  if (a.given("resume")) {
    std::string where = a.get("resume") == kAutoResume ? run_dir : a.get("resume");
    resume_from = find_latest_checkpoint(where);
    if (resume_from.empty()) throw Error("--resume: no checkpoint found in '" + where + "'");
    for (const auto& note : check_resume_against_run(recipe, resume_from))
      if (!a.flag("quiet") && denv.rank == 0) std::cerr << "psy train: resuming with " << note << " (extends the run)\n";
  } else if (holds_previous_run(run_dir)) {
    if (!a.flag("overwrite"))
      throw Error("run folder '" + run_dir + "' already holds a run (checkpoints, adapter/ or model/): continue with "
                  "--resume, or start again with --overwrite (which removes all of its outputs)");
    if (denv.rank == 0) clear_run_outputs(run_dir);
  }

  // Data: the seeded split, then samples for both sides.
  SampleOptions options = sample_options_from_recipe(recipe);
  Tokenizer tokenizer = Tokenizer::load(tokenizer_location(recipe));
  auto loaded = load_session_files(recipe.data.path, parse_on_error(recipe.data.on_error));
  if (!loaded.skipped.empty())
    std::cerr << "psy: skipped " << loaded.skipped.size() << " unusable session(s); first: " << loaded.skipped.front().reason
              << "\n";
  std::vector<Session> train_sessions, test_sessions;
  split_sessions(loaded.sessions, recipe.data.test_fraction, static_cast<uint64_t>(recipe.seed), train_sessions,
                 test_sessions);
  std::optional<RecipeRetriever> retriever;  // rag tasks: the training split's index, cached in the run folder
  if (is_retrieval_task(options.task)) retriever.emplace(recipe, train_sessions);
  const RetrievedCases train_cases = retriever ? retriever->cases_for(train_sessions) : RetrievedCases{};
  const RetrievedCases test_cases = retriever ? retriever->cases_for(test_sessions) : RetrievedCases{};
  SampleSet train_set = build_samples(train_sessions, options, tokenizer, retriever ? &train_cases : nullptr);
  SampleSet test_set = build_samples(test_sessions, options, tokenizer, retriever ? &test_cases : nullptr);
  TrainingData data;
  data.train = to_sequences(train_set.samples, &data.train_labels);
  data.eval = to_sequences(test_set.samples, nullptr);

  // Model.
  DecoderOptions dopt;
  dopt.device = device;
  const std::string compute = recipe.train.precision != "fp32" ? recipe.train.precision : recipe.model.dtype;
  dopt.dtype = parse_model_dtype(compute);
  Decoder decoder = load_decoder(recipe.model.path, dopt);
  if (recipe.model.quantization == "nf4") quantize_decoder_nf4(*decoder, /*double_quant=*/true);  // QLoRA
  if (layer_split) {
    std::vector<torch::Device> devices;
    for (const auto& d : recipe.devices.use) devices.push_back(parse_device(d));
    const LayerSplit split = plan_layer_split(*decoder, devices, recipe.devices.split);
    place_layers(*decoder, split);
    if (!a.flag("quiet")) std::cerr << "psy train: layer split\n" << describe_split(split);
  }
  if (decoder->config().vocab_size < tokenizer.vocab_size())
    throw Error("model " + recipe.model.path + ": vocab_size " + std::to_string(decoder->config().vocab_size) +
                " is smaller than the tokenizer's " + std::to_string(tokenizer.vocab_size()));
  int64_t trainable = 0, total = 0;
  for (auto& prm : decoder->parameters()) total += prm.numel();
  if (!full && recipe.lora.r > decoder->config().hidden_size)  // a rank above the width only allocates
    throw Error(recipe.source_path + ": field 'lora.r': " +
                expected_found("at most the model's hidden_size " + std::to_string(decoder->config().hidden_size),
                               std::to_string(recipe.lora.r)));
  if (!full) {
    LoraSpec spec;
    spec.r = recipe.lora.r;
    spec.alpha = recipe.lora.alpha;
    spec.dropout = recipe.lora.dropout;
    spec.rslora = recipe.lora.rslora;
    spec.targets = recipe.lora.targets;
    inject_lora(*decoder, spec, static_cast<uint64_t>(recipe.seed));
    if (!recipe.lora.init_adapter.empty()) start_from_adapter(*decoder, recipe);
    bool lm_head_adapted = false;
    for (const auto& [path, p] : decoder->projections()) lm_head_adapted |= path == "lm_head" && p->has_lora();
    if (lm_head_adapted && !a.flag("quiet") && denv.rank == 0)
      std::cerr << "psy train: note: lora.targets includes lm_head; vLLM does not serve LoRA on lm_head: "
                   "serve this run merged (psy merge) or train without lm_head\n";
    trainable = count_parameters(lora_parameters(*decoder));
    std::vector<torch::Tensor> adapter;
    for (auto& named : lora_parameters(*decoder)) adapter.push_back(named.second);
    dist::broadcast_parameters(group, adapter);  // every rank starts from rank 0's adapter
  } else {
    trainable = total;
  }

  // Run folder: resolved recipe and manifest.
  make_dirs(run_dir);
  if (denv.rank == 0) write_file_atomic(run_dir + "/recipe.yaml", recipe_to_yaml(recipe, true));
  const RuntimeInfo info = runtime_info();
  nlohmann::ordered_json manifest;
  manifest["psy_version"] = PSY_VERSION;
  manifest["git_commit"] = git_commit();
  manifest["libtorch_version"] = info.torch_version;
  manifest["device"] = device.str();
  manifest["threads"] = threads;
  manifest["blas"] = info.blas;
  manifest["seed"] = recipe.seed;
  manifest["recipe"] = recipe.source_path;
  manifest["model"] = recipe.model.path;
  manifest["compute_dtype"] = compute;
  manifest["tokenizer"] = tokenizer_location(recipe);
  manifest["mode"] = recipe.train.mode;
  manifest["trainable_parameters"] = trainable;
  manifest["total_parameters"] = total;
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& f : recipe.data.path) files.push_back({{"path", f}, {"sha256", sha256_file(f)}});
  manifest["data_files"] = files;
  manifest["sessions"] = {{"train", train_sessions.size()}, {"test", test_sessions.size()}};
  manifest["samples"] = {{"train", data.train.size()}, {"test", data.eval.size()},
                         {"train_tokens", train_set.stats.tokens}, {"dropped_too_long", train_set.stats.dropped_too_long}};
  manifest["resumed_from"] = resume_from;
  manifest["world_size"] = denv.world_size;
  if (denv.rank == 0) write_file_atomic(run_dir + "/manifest.json", manifest.dump(2) + "\n");

  TrainingSetup setup;
  setup.train = recipe.train;
  setup.seed = static_cast<uint64_t>(recipe.seed);
  setup.pad_id = tokenizer.pad_id() >= 0 ? tokenizer.pad_id() : 0;
  setup.max_seq_len = recipe.data.max_seq_len;
  setup.run_dir = run_dir;
  setup.base_model_path = recipe.model.path;
  setup.resume_from = resume_from;
  setup.quiet = a.flag("quiet") || denv.rank != 0;
  dist::attach_process_group(group, setup);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json",
                        "generation_config.json"}) {
    fs::path src = fs::path(recipe.model.path) / f;
    if (fs::exists(src)) setup.copy_to_final_model.push_back(src.string());
  }
  if (!setup.quiet)
    std::cerr << "psy train: " << data.train.size() << " train / " << data.eval.size() << " held-out samples, "
              << trainable << " trainable of " << total << " parameters, " << compute << " on " << device.str() << ", "
              << threads << " thread(s)" << (resume_from.empty() ? "" : ", resuming from " + resume_from) << "\n";
  TrainingResult r = run_training(*decoder, data, setup);
  if (denv.rank != 0) return r.interrupted ? 130 : 0;

  std::cout << "run: " << run_dir << "\n"
            << "steps: " << r.steps << " of " << r.total_steps << (r.early_stopped ? " (early stop)" : "")
            << (r.interrupted ? " (interrupted; continue with --resume)" : "") << "\n";
  if (!r.losses.empty()) std::cout << "loss: " << r.first_loss << " -> " << r.last_loss << "\n";
  if (r.last_eval_loss >= 0) std::cout << "eval loss: " << r.last_eval_loss << "\n";
  std::cout << "tokens/s: " << static_cast<long>(r.tokens_per_s) << "\n";
  if (!r.last_checkpoint.empty()) std::cout << "checkpoint: " << r.last_checkpoint << "\n";
  if (!r.interrupted) std::cout << (full ? "model: " + run_dir + "/model" : "adapter: " + run_dir + "/adapter") << "\n";
  return r.interrupted ? 130 : 0;
}

}  // namespace psy::cli
