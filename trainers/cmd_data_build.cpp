// psy data build / psy data tokens: chain-of-thought samples from a recipe.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/data/sample_export.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/run/recipe_dataset.h"
#include "libpsy/run/recipe_retrieval_hook.h"
#include "libpsy/text/tokenizer.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

SplitSide parse_side(const std::string& side) {
  if (side == "train") return SplitSide::Train;
  if (side == "test") return SplitSide::Test;
  if (side == "all") return SplitSide::All;
  throw Error("--split: " + expected_found("train, test or all", "'" + side + "'"));
}

// The recipe's dataset; its tokenizer is loaded after the data, as before.
struct RecipeData {
  RecipeDataset dataset;
  Tokenizer tokenizer;
};

RecipeData load_recipe_data(const std::string& path, const std::vector<std::string>& overrides) {
  RecipeDataset dataset(load_recipe(path, overrides));
  Tokenizer tokenizer = load_recipe_tokenizer(dataset.recipe());
  if (!dataset.skipped_note().empty()) std::cerr << dataset.skipped_note() << "\n";
  return RecipeData{std::move(dataset), std::move(tokenizer)};
}

// The samples of one side with options `o`; rag tasks retrieve from the training split's index
// (cached in the run folder).
SampleSet build_recipe_samples(const RecipeData& d, SplitSide side, const SampleOptions& o) {
  return d.dataset.samples(side, o, d.tokenizer, recipe_case_retrieval(d.dataset.recipe(), [](const RecipeRetriever& r) {
    if (r.index().from_cache) std::cerr << "psy: retrieval index loaded from the run folder\n";
  }));
}

std::string stats_text(const SampleStats& s) {
  std::ostringstream out;
  out << fmt::format("{} samples from {} sessions: {} tokens ({} weighted, {} in targets), longest {}\n", s.samples,
                     s.sessions, s.tokens, s.weighted_tokens, s.target_tokens, s.max_tokens);
  out << fmt::format("truncated {}, dropped: {} too long, {} by drop_sample, {} empty responses\n", s.truncated,
                     s.dropped_too_long, s.dropped_missing, s.dropped_empty);
  out << fmt::format("missing annotations in targets: {} observations, {} reasoning; {} placeholders written\n",
                     s.missing_observation, s.missing_reasoning, s.placeholders);
  out << "samples per task:";
  for (const auto& [task, n] : s.samples_per_task) out << " " << task << "=" << n;
  out << "\n";
  return out.str();
}

}  // namespace

int data_build(const Args& args) {
  ArgParser p("psy data build",
              "Build the chain-of-thought training samples a recipe describes (its data and model sections),\n"
              "tokenised with per-token loss weights. Without --show or --export, prints their statistics.");
  p.positional("RECIPE", "recipe YAML file")
      .positional("OVERRIDES", "key.path=value overrides of the recipe (e.g. data.task=dialog)", false, true)
      .option("show", "N", "print the first N samples with target tokens highlighted", "0")
      .flag("no-color", "mark target text with [[ ]] instead of colour")
      .option("export", "FILE", "write the samples as JSON Lines to FILE", "")
      .option("format", "psy|messages|openai", "export format", "psy")
      .option("split", "train|test|all", "which sessions of the recipe's seeded split to use", "train");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  const long show = a.get_long("show");
  if (show < 0) throw Error("--show: " + expected_found("a count >= 0", std::to_string(show)));
  const ExportFormat format = parse_export_format(a.get("format"));
  const SplitSide side = parse_side(a.get("split"));
  RecipeData d = load_recipe_data(a.get("RECIPE"), a.list("OVERRIDES"));
  const SampleOptions& options = d.dataset.options();
  SampleSet set = build_recipe_samples(d, side, options);

  const bool color = !a.flag("no-color") && isatty(fileno(stdout));
  for (long i = 0; i < show && i < static_cast<long>(set.samples.size()); ++i)
    std::cout << show_sample(set.samples[static_cast<size_t>(i)], color) << "\n";
  if (!a.get("export").empty()) {
    write_file_atomic(a.get("export"),
                      [&](std::ostream& out) { write_samples_jsonl(out, set.samples, format); });
    std::cerr << "psy: wrote " << set.samples.size() << " samples to " << a.get("export") << "\n";
  }
  std::ostream& summary = (show > 0 || !a.get("export").empty()) ? std::cerr : std::cout;
  summary << "task " << task_name(options.task) << ", unit " << unit_name(options.unit) << ", template "
          << chat_template_name(options.chat_template) << ", " << a.get("split") << " split\n"
          << stats_text(set.stats);
  return 0;
}

int data_tokens(const Args& args) {
  ArgParser p("psy data tokens",
              "Tokens per epoch of a recipe's training samples for both units (turn and session),\n"
              "with the recipe's task, template, tokenizer and max_seq_len. Same as `psy data stats --tokens`.");
  p.positional("RECIPE", "recipe YAML file")
      .positional("OVERRIDES", "key.path=value overrides of the recipe", false, true)
      .option("split", "train|test|all", "which sessions of the recipe's seeded split to use", "train");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  const SplitSide side = parse_side(a.get("split"));
  RecipeData d = load_recipe_data(a.get("RECIPE"), a.list("OVERRIDES"));
  const SampleOptions& options = d.dataset.options();
  std::cout << fmt::format("task {}, template {}, max_seq_len {}, {} of {} sessions ({} split)\n",
                           task_name(options.task), chat_template_name(options.chat_template), options.max_seq_len,
                           d.dataset.sessions_of(side).size(), d.dataset.sessions().size(), a.get("split"));
  std::cout << fmt::format("{:<8} {:>8} {:>12} {:>12} {:>12} {:>8} {:>10} {:>8}\n", "unit", "samples",
                           "tokens", "weighted", "targets", "longest", "truncated", "dropped");
  for (SampleUnit unit : {SampleUnit::Turn, SampleUnit::Session}) {
    SampleOptions o = options;
    o.unit = unit;
    if (is_retrieval_task(o.task) && unit == SampleUnit::Session) {
      std::cout << fmt::format("{:<8} (task {} retrieves per turn: no session unit)\n", unit_name(unit), task_name(o.task));
      continue;
    }
    SampleStats s = build_recipe_samples(d, side, o).stats;
    std::cout << fmt::format("{:<8} {:>8} {:>12} {:>12} {:>12} {:>8} {:>10} {:>8}\n", unit_name(unit), s.samples,
                             s.tokens, s.weighted_tokens, s.target_tokens, s.max_tokens, s.truncated,
                             s.dropped_too_long + s.dropped_missing);
  }
  return 0;
}

}  // namespace psy::cli
