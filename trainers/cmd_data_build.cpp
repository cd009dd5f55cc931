// psy data build / psy data tokens: chain-of-thought samples from a recipe.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/data/sample_export.h"
#include "libpsy/data/split.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/retrieval/recipe_retrieval.h"
#include "libpsy/text/tokenizer.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

struct RecipeData {
  Recipe recipe;
  SampleOptions options;
  Tokenizer tokenizer;
  std::vector<Session> sessions;  // the chosen side of the split
  size_t total_sessions = 0;
  std::vector<std::string> split_of;  // train | test, per entry of `sessions`
  std::vector<Session> train;         // the training split (the rag tasks' index)
};

std::string tokenizer_path(const Recipe& r) {
  if (!r.model.tokenizer.empty()) return r.model.tokenizer;
  if (!r.model.path.empty()) return r.model.path;
  throw Error(r.source_path + ": model.tokenizer (or model.path) must name a SentencePiece tokenizer");
}

RecipeData load_recipe_data(const std::string& path, const std::vector<std::string>& overrides,
                            const std::string& side) {
  if (side != "train" && side != "test" && side != "all")
    throw Error("--split: " + expected_found("train, test or all", "'" + side + "'"));
  Recipe recipe = load_recipe(path, overrides);
  SampleOptions options = sample_options_from_recipe(recipe);
  if (recipe.data.path.empty()) throw Error(path + ": data.path must name at least one Psy-Insight file");
  Tokenizer tokenizer = Tokenizer::load(tokenizer_path(recipe));
  auto loaded = load_session_files(recipe.data.path, parse_on_error(recipe.data.on_error));
  if (!loaded.skipped.empty())
    std::cerr << "psy: skipped " << loaded.skipped.size() << " unusable session(s); first: "
              << loaded.skipped.front().reason << "\n";
  RecipeData d{std::move(recipe), std::move(options), std::move(tokenizer), {}, loaded.sessions.size()};
  const SessionSplit split = split_sessions(loaded.sessions.size(), d.recipe.data.test_fraction,
                                           static_cast<uint64_t>(d.recipe.seed));
  for (size_t i : split.train) d.train.push_back(loaded.sessions[i]);
  if (side == "all") {
    d.split_of.assign(loaded.sessions.size(), "train");
    for (size_t i : split.test) d.split_of[i] = "test";
    d.sessions = std::move(loaded.sessions);
  } else {
    for (size_t i : side == "train" ? split.train : split.test) d.sessions.push_back(loaded.sessions[i]);
    d.split_of.assign(d.sessions.size(), side);
  }
  return d;
}

// The samples of d.sessions with options `o`; rag tasks retrieve from the training split's index
// (cached in the run folder). Each sample carries its split.
SampleSet build_recipe_samples(const RecipeData& d, const SampleOptions& o) {
  SampleSet set;
  if (is_retrieval_task(o.task)) {
    RecipeRetriever retriever(d.recipe, d.train);
    if (retriever.index().from_cache) std::cerr << "psy: retrieval index loaded from the run folder\n";
    const RetrievedCases cases = retriever.cases_for(d.sessions);
    set = build_samples(d.sessions, o, d.tokenizer, &cases);
  } else {
    set = build_samples(d.sessions, o, d.tokenizer);
  }
  for (auto& s : set.samples) s.split = d.split_of.at(s.session_index);
  return set;
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
  RecipeData d = load_recipe_data(a.get("RECIPE"), a.list("OVERRIDES"), a.get("split"));
  SampleSet set = build_recipe_samples(d, d.options);

  const bool color = !a.flag("no-color") && isatty(fileno(stdout));
  for (long i = 0; i < show && i < static_cast<long>(set.samples.size()); ++i)
    std::cout << show_sample(set.samples[static_cast<size_t>(i)], color) << "\n";
  if (!a.get("export").empty()) {
    write_file_atomic(a.get("export"),
                      [&](std::ostream& out) { write_samples_jsonl(out, set.samples, format); });
    std::cerr << "psy: wrote " << set.samples.size() << " samples to " << a.get("export") << "\n";
  }
  std::ostream& summary = (show > 0 || !a.get("export").empty()) ? std::cerr : std::cout;
  summary << "task " << task_name(d.options.task) << ", unit " << unit_name(d.options.unit) << ", template "
          << chat_template_name(d.options.chat_template) << ", " << a.get("split") << " split\n"
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
  RecipeData d = load_recipe_data(a.get("RECIPE"), a.list("OVERRIDES"), a.get("split"));
  std::cout << fmt::format("task {}, template {}, max_seq_len {}, {} of {} sessions ({} split)\n",
                           task_name(d.options.task), chat_template_name(d.options.chat_template),
                           d.options.max_seq_len, d.sessions.size(), d.total_sessions, a.get("split"));
  std::cout << fmt::format("{:<8} {:>8} {:>12} {:>12} {:>12} {:>8} {:>10} {:>8}\n", "unit", "samples",
                           "tokens", "weighted", "targets", "longest", "truncated", "dropped");
  for (SampleUnit unit : {SampleUnit::Turn, SampleUnit::Session}) {
    SampleOptions o = d.options;
    o.unit = unit;
    if (is_retrieval_task(o.task) && unit == SampleUnit::Session) {
      std::cout << fmt::format("{:<8} (task {} retrieves per turn: no session unit)\n", unit_name(unit), task_name(o.task));
      continue;
    }
    SampleStats s = build_recipe_samples(d, o).stats;
    std::cout << fmt::format("{:<8} {:>8} {:>12} {:>12} {:>12} {:>8} {:>10} {:>8}\n", unit_name(unit), s.samples,
                             s.tokens, s.weighted_tokens, s.target_tokens, s.max_tokens, s.truncated,
                             s.dropped_too_long + s.dropped_missing);
  }
  return 0;
}

}  // namespace psy::cli
