// libFuzzer target for the recipe loader: YAML text plus `key=value` overrides (what `psy train
// RECIPE key=value ...` and `psy recipe show` parse). LibTorch-free.
// Input: "YAML\0OVERRIDE\0OVERRIDE..." (no NUL: just YAML, no overrides). parse_recipe must either
// give a recipe or throw psy::Error. A recipe that loads must load again, unchanged, from
// recipe_to_yaml's text (the run folder keeps that text and --resume reads it back).
// Anything else (another exception, a crash, a hang, a leak) is a finding.
// Build and run with fuzz/run_fuzzer.sh recipe.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/recipe/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t zero = input.find('\0');
  const std::string yaml = input.substr(0, zero);
  std::vector<std::string> overrides;
  for (size_t at = zero; at != std::string::npos && at < input.size();) {
    const size_t next = input.find('\0', at + 1);
    overrides.push_back(input.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  psy::Recipe recipe;
  try {
    recipe = psy::parse_recipe(yaml, "fuzz/recipe.yaml", overrides);
  } catch (const psy::Error& e) {
    if (e.what()[0] == '\0') std::abort();
    return 0;
  }
  const std::string text = psy::recipe_to_yaml(recipe);
  try {
    const psy::Recipe again = psy::parse_recipe(text, "fuzz/resolved.yaml");
    if (psy::recipe_to_yaml(again) != text) std::abort();  // the resolved recipe changed on reload
  } catch (const psy::Error&) {
    std::abort();  // the resolved recipe of a valid recipe must load
  }
  return 0;
}
