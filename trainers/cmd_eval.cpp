// psy eval: evaluation-only runs on a checkpoint -- generate on the held-out split, parse the
// chain of thought, score it; RUN/predictions.jsonl and RUN/metrics.json (libpsy/evaluate).
#include <filesystem>
#include <iostream>
#include <optional>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/evaluate/eval_run.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/runtime/runtime.h"
#include "libpsy/train/run_folder_files.h"
#include "libpsy/run/model_source.h"
#include "libpsy/run/run_folder.h"
#include "trainers/commands.h"
#include "trainers/model_args.h"


namespace psy::cli {

namespace {

const char* kEvalEpilog = R"(What is evaluated (first match wins):
  --checkpoint PATH a PEFT adapter folder (adapter_config.json), a merged Hugging Face model
                    (config.json), a training checkpoint (RUN/checkpoints/step-N, RUN/step-N,
                    RUN/last, RUN/best: the lowest eval_loss in log.jsonl), or a run folder (its
                    adapter/, model/ or newest complete checkpoint); the same option as in psy
                    generate, chat and merge;
  --adapter DIR     a PEFT adapter (ours or PEFT's) on the base model (--model or model.path);
  --base            the base model alone;
  otherwise         the recipe's run folder as for --checkpoint, else the base model alone.
The held-out set is the recipe's seeded split (data.test_fraction, seed), exactly as psy train
splits; every therapist turn of the test sessions is one example (eval.max_samples limits them).
Outputs (in the recipe's output folder, or --out): predictions.jsonl (one line per example, with
the prompt, gold sections, raw generation, parsed sections and per-example scores),
metrics.json (values with 95% bootstrap CIs and signatures, observation/reasoning scores vs the
gold annotations, the CoT parse rate, settings, file hashes) and eval_settings.json.
An interrupted run continues where it stopped when run again with the same settings.
Predictions made elsewhere (e.g. ChatGPT): score them with `psy score` and the same --protocol.)";

void print_outcome(const EvalOutcome& o) {
  std::cout << "examples: " << o.examples << " (" << o.resumed << " resumed, " << o.generated << " generated)\n";
  std::cout << "cot parse rate: " << o.cot_parse_rate << "\n";
  for (auto it = o.metrics["metrics"].begin(); it != o.metrics["metrics"].end(); ++it) {
    std::cout << it.key() << ": " << it.value()["value"].dump();
    if (it.value().contains("ci95")) std::cout << "  ci95 " << it.value()["ci95"].dump();
    std::cout << "\n";
  }
  for (auto s = o.metrics["sections"].begin(); s != o.metrics["sections"].end(); ++s) {
    std::cout << s.key() << " (" << s.value()["n_pairs"].dump() << " pairs):";
    for (auto it = s.value()["metrics"].begin(); it != s.value()["metrics"].end(); ++it)
      std::cout << " " << it.key() << "=" << it.value()["value"].dump();
    std::cout << "\n";
  }
  std::cout << "predictions: " << o.predictions_path << "\nmetrics: " << o.metrics_path << "\n";
}

// Writes into `out_dir` under its lock, after removing what a killed run left there.
EvalOutcome evaluate_locked(const EvalRequest& q) {
  FolderLock lock = RunFolder(q.out_dir).lock("psy eval");  // one writer per output folder
  for (const auto& stale : clean_stale_files(q.out_dir))
    if (!q.quiet) std::cerr << "psy eval: removed " << stale << " (left by a killed run)\n";
  return run_evaluation(q);
}

// "step-20" for a checkpoint, "final" for a run's final weights, else the folder's name.
std::string checkpoint_label(const ModelSource& source, const std::string& path) {
  if (source.step >= 0) return "step-" + std::to_string(source.step);
  if (!source.run_dir.empty()) return "final";
  return std::filesystem::path(path).lexically_normal().filename().string();
}

// psy eval --checkpoints: one evaluation per checkpoint, the base model loaded once.
int evaluate_checkpoints(const std::vector<std::string>& paths, const EvalRequest& common, const std::string& out_root) {
  LoadedBase base;
  for (const auto& path : paths) {
    const ModelSource source = resolve_model_source(path, "--checkpoints");
    EvalRequest q = common;
    if (source.is_adapter()) {
      q.adapter_dir = source.adapter_dir;
    } else {
      q.recipe.model.path = source.model_dir;
    }
    const std::string label = checkpoint_label(source, path);
    q.recipe.name = common.recipe.name + " @ " + label;
    q.out_dir = (std::filesystem::path(out_root) / "eval" / label).string();
    q.base = &base;
    if (!q.quiet) std::cerr << "psy eval: " << source.describe() << " -> " << q.out_dir << "\n";
    std::cout << "== " << q.recipe.name << "\n";
    print_outcome(evaluate_locked(q));
  }
  return 0;
}

}  // namespace

int cmd_eval(const Args& args) {
  ArgParser p("psy eval",
              "Generate a response for every held-out therapist turn, parse the chain of thought and score it\n"
              "with the recipe's metrics and protocol (eval section).");
  p.positional("RECIPE", "recipe YAML file", false)
      .positional("OVERRIDES", "key.path=value overrides of the recipe (e.g. eval.max_samples=50)", false, true)
      .option("checkpoint", "PATH", kCheckpointHelp, "")
      .multi_option("checkpoints", "PATH...", "evaluate several checkpoints of a run in one command (each as for "
                    "--checkpoint), loading the base model once and swapping adapters; each writes to "
                    "OUT/eval/step-N (OUT: --out or the recipe's output; 'final' for a run's final weights)")
      .option("model", "DIR", "base (or merged) Hugging Face model folder (overrides model.path)", "")
      .option("adapter", "DIR", "PEFT LoRA adapter folder to apply on the base model", "")
      .option("data", "FILE", "Psy-Insight data file (overrides data.path)", "")
      .option("out", "DIR", "output folder (default: the recipe's output)", "")
      .option("threads", "N", "CPU threads (overrides the recipe's threads; 0 = all cores)", "")
      .option("score-threads", "N", "threads scoring pairs (results do not depend on it)", "2")
      .option("name", "NAME", "the run's name in metrics.json and reports (default: the recipe's; with --base, "
              "NAME (base model))", "")
      .flag("base", "evaluate the base model without any adapter")
      .flag("overwrite", "start again even when the output folder holds predictions")
      .flag("quiet", "no progress output on stderr")
      .epilog(kEvalEpilog);
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;

  std::vector<std::string> overrides = a.list("OVERRIDES");
  std::string recipe_path = a.get("RECIPE");
  if (recipe_path.find('=') != std::string::npos) {  // no recipe file: only overrides
    overrides.insert(overrides.begin(), recipe_path);
    recipe_path.clear();
  }
  Recipe recipe = recipe_path.empty() ? parse_recipe("{}", "<defaults>", overrides) : load_recipe(recipe_path, overrides);
  if (!a.get("model").empty()) recipe.model.path = a.get("model");
  if (!a.get("data").empty()) recipe.data.path = {a.get("data")};
  if (a.given("threads") && (a.get_long("threads") < 0 || a.get_long("threads") > 4096))
    throw Error("psy eval: --threads " + expected_found("0 (all cores) to 4096", a.get("threads")));
  set_threads(a.given("threads") ? static_cast<int>(a.get_long("threads")) : recipe.threads);

  EvalRequest q;
  const std::vector<std::string>& several = a.list("checkpoints");
  int chosen = (a.given("checkpoint") ? 1 : 0) + (a.given("adapter") ? 1 : 0) + (a.flag("base") ? 1 : 0) +
               (several.empty() ? 0 : 1);
  if (chosen > 1) throw Error("psy eval: give at most one of --checkpoint, --checkpoints, --adapter and --base");
  if (!several.empty() && !a.get("name").empty())
    throw Error("psy eval: --name names one run; with --checkpoints each is named RECIPE-NAME @ step-N");
  std::string model_override;
  std::optional<ModelSource> source;
  if (a.given("checkpoint")) {
    source = resolve_model_source(a.get("checkpoint"));
  } else if (a.given("adapter")) {
    q.adapter_dir = a.get("adapter");
  } else if (!a.flag("base") && several.empty()) {
    source = find_model_source(recipe.output);  // the recipe's run, when it holds weights
  }
  if (source && source->is_adapter()) q.adapter_dir = source->adapter_dir;
  if (source && !source->is_adapter()) model_override = source->model_dir;
  if (!model_override.empty()) recipe.model.path = model_override;
  if (a.flag("base")) recipe.name += " (base model)";
  if (!a.get("name").empty()) recipe.name = a.get("name");
  q.recipe = recipe;
  q.out_dir = a.get("out").empty() ? recipe.output : a.get("out");
  q.overwrite = a.flag("overwrite");
  q.quiet = a.flag("quiet");
  const long st = a.get_long("score-threads");
  if (st < 1 || st > 256) throw Error("psy eval: --score-threads " + expected_found("1 to 256", std::to_string(st)));
  q.score_threads = static_cast<int>(st);
  if (!several.empty()) return evaluate_checkpoints(several, q, q.out_dir);
  if (!q.quiet)
    std::cerr << "psy eval: model " << recipe.model.path
              << (q.adapter_dir.empty() ? std::string(" (no adapter)") : " + adapter " + q.adapter_dir) << "\n";
  print_outcome(evaluate_locked(q));
  return 0;
}

}  // namespace psy::cli
