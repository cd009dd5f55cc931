// psy recipe: show a resolved recipe, list every key.
#include <iostream>

#include "libpsy/core/cli_args.h"
#include "libpsy/recipe/recipe.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

int recipe_show(const Args& args) {
  ArgParser p("psy recipe show", "Print the fully resolved recipe: every key with its value (defaults filled in).");
  p.positional("RECIPE", "YAML recipe file", false)
      .positional("OVERRIDES", "key.path=value assignments applied after the file", false, true)
      .flag("no-docs", "leave out the one-line doc comments");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  Recipe r = a.given("RECIPE") ? load_recipe(a.get("RECIPE"), a.list("OVERRIDES")) : Recipe{};
  std::cout << recipe_to_yaml(r, !a.flag("no-docs"));
  return 0;
}

int recipe_keys(const Args& args) {
  ArgParser p("psy recipe keys", "List every recipe key with its type, allowed values and meaning.");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  std::cout << recipe_reference();
  return 0;
}

}  // namespace

int cmd_recipe(const Args& args) {
  static const std::vector<Command> table = {
      {"show", "print the resolved recipe with defaults", recipe_show},
      {"keys", "list every key, its type and meaning", recipe_keys},
  };
  return dispatch("psy recipe", table, args);
}

}  // namespace psy::cli
