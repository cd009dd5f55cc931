// The recipe's schema: one entry per key path, with its type, doc, and how to read and write it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "libpsy/recipe/recipe.h"

namespace psy::recipe_detail {

// Thrown by FieldSpec::set when a value has the wrong type or is not one of the choices.
struct TypeError {
  std::string expected;  // "number", "one of a, b (found 'c')"
};

// "'abc'", "a list", "a mapping", "null": how a YAML value reads in a message.
std::string node_kind(const YAML::Node& n);

struct FieldSpec {
  std::string path;                  // "train.lr"
  std::string type;                  // "number", "integer", "string", "boolean", "list of strings", ...
  std::string doc;
  std::vector<std::string> choices;  // allowed values for strings / list items; empty = any
  // Sets the field from a YAML node; throws a message (without location) on a type mismatch.
  std::function<void(Recipe&, const YAML::Node&)> set;
  std::function<YAML::Node(const Recipe&)> get;
};

// Every key, in the order `psy recipe show` prints them.
const std::vector<FieldSpec>& recipe_fields();

}  // namespace psy::recipe_detail
