// psy train: LoRA (or full) supervised fine-tuning from a recipe. Argument parsing and printing
// only: the run itself (set-up, steps, finish) is libpsy/run/train_run.h.
#include <iostream>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/dist/launcher.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/run/run_folder.h"
#include "libpsy/run/train_run.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

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
        out.push_back(std::string("--resume=") + kResumeLatest);
      }
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

void print_summary(const TrainRunFacts& f) {
  std::cerr << "psy train: " << f.train_samples << " train / " << f.eval_samples << " held-out samples, "
            << f.trainable_parameters << " trainable of " << f.total_parameters << " parameters, " << f.compute_dtype
            << " on " << f.device << ", " << f.threads << " thread(s)"
            << (f.resumed_from.empty() ? "" : ", resuming from " + f.resumed_from) << "\n";
}

void print_result(const TrainRunFacts& f, const TrainingResult& r) {
  std::cout << "run: " << f.run_dir << "\n"
            << "steps: " << r.steps << " of " << r.total_steps << (r.early_stopped ? " (early stop)" : "")
            << (r.interrupted ? " (interrupted; continue with --resume)" : "") << "\n";
  if (!r.losses.empty()) std::cout << "loss: " << r.first_loss << " -> " << r.last_loss << "\n";
  if (r.last_eval_loss >= 0) std::cout << "eval loss: " << r.last_eval_loss << "\n";
  std::cout << "tokens/s: " << static_cast<long>(r.tokens_per_s) << "\n";
  if (!r.last_checkpoint.empty()) std::cout << "checkpoint: " << r.last_checkpoint << "\n";
  const RunFolder run(f.run_dir);
  if (!r.interrupted) std::cout << (f.full ? "model: " + run.model_dir() : "adapter: " + run.adapter_dir()) << "\n";
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

  const Recipe recipe = load_recipe(a.get("RECIPE"), a.list("OVERRIDES"));
  TrainRunOptions options;
  if (a.given("threads") && (a.get_long("threads") < 0 || a.get_long("threads") > 4096))
    throw Error("psy train: --threads " + expected_found("0 (all cores) to 4096", a.get("threads")));
  if (a.given("threads")) options.threads = static_cast<int>(a.get_long("threads"));
  if (a.given("resume")) options.resume = a.get("resume");
  options.overwrite = a.flag("overwrite");
  options.quiet = a.flag("quiet");
  options.psy_version = PSY_VERSION;

  TrainRun run(recipe, options);
  if (!options.quiet && run.facts().writer) print_summary(run.facts());
  while (!run.done()) run.step();
  const TrainingResult r = run.finish();
  if (run.facts().writer) print_result(run.facts(), r);
  return r.interrupted ? 130 : 0;
}

}  // namespace psy::cli
