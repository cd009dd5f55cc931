// psy data: statistics, splits (and, from the samples module, sample building).
#include <iostream>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/data/dataset_stats.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/write_sessions.h"
#include "libpsy/run/recipe_dataset.h"
#include "trainers/commands.h"

#include <nlohmann/json.hpp>

namespace psy::cli {

int data_build(const Args& args);   // trainers/cmd_data_build.cpp
int data_tokens(const Args& args);  // trainers/cmd_data_build.cpp

namespace {

void report_skipped(const LoadedSessions& loaded) {
  if (loaded.skipped.empty()) return;
  std::cerr << "psy: skipped " << loaded.skipped.size() << " unusable session"
            << (loaded.skipped.size() == 1 ? "" : "s") << ":\n";
  for (const auto& s : loaded.skipped) std::cerr << "  " << s.reason << "\n";
}

int data_stats(const Args& args) {
  ArgParser p("psy data stats", "Print the dataset statistics the Psy-Insight paper reports.");
  p.positional("FILE", "Psy-Insight JSON (a list of sessions) or JSON Lines (one session per line)", true, true)
      .flag("json", "print one JSON object instead of a table")
      .flag("tokens", "FILE is a recipe (then key=value overrides): tokens per epoch for both units, as `psy data tokens`")
      .option("on-error", "stop|skip", "what to do with an unusable session", "stop");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.flag("tokens")) return data_tokens(a.list("FILE"));
  auto loaded = load_session_files(a.list("FILE"), parse_on_error(a.get("on-error")));
  report_skipped(loaded);
  auto stats = compute_stats(loaded.sessions);
  if (a.flag("json")) {
    auto j = nlohmann::ordered_json::parse(stats_to_json(stats));
    j["skipped_sessions"] = loaded.skipped.size();
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << stats_to_text(stats);
  }
  return 0;
}

int data_split(const Args& args) {
  ArgParser p("psy data split",
              "Split sessions into train and test sets by session, deterministically for a seed.\n"
              "Writes DIR/train.json, DIR/test.json and DIR/split.json (the dialog ids of each side).");
  p.positional("FILE", "Psy-Insight JSON or JSON Lines")
      .option("test-fraction", "F", "fraction of sessions held out for testing", "0.15")
      .option("seed", "N", "seed of the shuffle", "66")
      .option("out", "DIR", "output folder (created if missing)", "")
      .option("on-error", "stop|skip", "what to do with an unusable session", "stop");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.get("out").empty()) throw Error("psy data split: --out DIR is required");
  const double fraction = a.get_double("test-fraction");
  const long seed = a.get_long("seed");
  Recipe recipe;  // the file alone, split as a recipe's data would be
  recipe.source_path = "psy data split";
  recipe.data.path = {a.get("FILE")};
  recipe.data.test_fraction = fraction;
  recipe.seed = seed;
  recipe.data.on_error = parse_on_error(a.get("on-error"));
  const RecipeDataset dataset(recipe);
  report_skipped(LoadedSessions{{}, dataset.skipped()});
  const std::vector<Session>& train = dataset.train_sessions();
  const std::vector<Session>& test = dataset.test_sessions();
  nlohmann::ordered_json manifest;
  manifest["source"] = a.get("FILE");
  manifest["test_fraction"] = fraction;
  manifest["seed"] = seed;
  manifest["train"] = nlohmann::json::array();
  manifest["test"] = nlohmann::json::array();
  for (const auto& s : train) manifest["train"].push_back(s.dialog_id);
  for (const auto& s : test) manifest["test"].push_back(s.dialog_id);
  const std::string dir = a.get("out");
  make_dirs(dir);
  write_sessions_json(dir + "/train.json", train);
  write_sessions_json(dir + "/test.json", test);
  write_file_atomic(dir + "/split.json", manifest.dump(2) + "\n");
  std::cout << "split " << dataset.sessions().size() << " sessions: " << train.size() << " train, " << test.size()
            << " test (seed " << seed << ") -> " << dir << "\n";
  return 0;
}

}  // namespace

int cmd_data(const Args& args) {
  static const std::vector<Command> table = {
      {"stats", "dataset statistics (the paper's Tables 1-3 and 8)", data_stats},
      {"split", "seeded train/test split by session", data_split},
      {"build", "chain-of-thought samples of a recipe: show, export, statistics", data_build},
      {"tokens", "tokens per epoch of a recipe for both units (turn, session)", data_tokens},
  };
  return dispatch("psy data", table, args);
}

}  // namespace psy::cli
