#include "libpsy/recipe/recipe.h"

#include <map>
#include <set>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/recipe/recipe_schema.h"

namespace psy {

namespace {

using recipe_detail::FieldSpec;
using recipe_detail::recipe_fields;

const FieldSpec* find_field(const std::string& path) {
  for (const auto& f : recipe_fields()) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

// Keys valid directly under `prefix` ("" = top level, "train." = the train section).
std::vector<std::string> keys_under(const std::string& prefix) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& f : recipe_fields()) {
    if (f.path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = f.path.substr(prefix.size());
    std::string key = rest.substr(0, rest.find('.'));
    if (seen.insert(key).second) out.push_back(key);
  }
  return out;
}

bool is_section(const std::string& path) { return !keys_under(path + ".").empty(); }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void set_field(Recipe& r, const FieldSpec& f, const YAML::Node& value, const std::string& file, long line) {
  try {
    f.set(r, value);
  } catch (const recipe_detail::TypeError& e) {
    ErrorLocation at;
    at.file = file;
    at.line = line;
    at.field = f.path;
    std::string problem = e.expected.rfind("one of ", 0) == 0
                              ? "expected " + e.expected
                              : expected_found(e.expected, recipe_detail::node_kind(value));
    throw Error(at, problem);
  }
}

void apply_map(Recipe& r, const YAML::Node& map, const std::string& prefix, const std::string& file) {
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    const std::string path = prefix + key;
    const long line = kv.first.Mark().line + 1;
    if (is_section(path)) {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) {
        ErrorLocation at{file, line, 0, "", "", path};
        throw Error(at, expected_found("a mapping with keys " + join(keys_under(path + ".")),
                                       recipe_detail::node_kind(kv.second)));
      }
      apply_map(r, kv.second, path + ".", file);
      continue;
    }
    const FieldSpec* f = find_field(path);
    if (!f) {
      ErrorLocation at{file, line, 0, "", "", ""};
      std::string where = prefix.empty() ? "at the top level" : "in section '" + prefix.substr(0, prefix.size() - 1) + "'";
      throw Error(at, "unknown key '" + path + "' " + where + " (valid: " + join(keys_under(prefix)) + ")");
    }
    set_field(r, *f, kv.second, file, line);
  }
}

void apply_override(Recipe& r, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error("override '" + assignment + "': expected key.path=value (e.g. train.lr=1e-4)");
  }
  const std::string path = assignment.substr(0, eq);
  const FieldSpec* f = find_field(path);
  if (!f) {
    std::string prefix = path.find('.') == std::string::npos ? "" : path.substr(0, path.rfind('.') + 1);
    if (!prefix.empty() && !is_section(prefix.substr(0, prefix.size() - 1))) prefix.clear();
    throw Error("override '" + assignment + "': unknown key '" + path + "' (valid: " + join(keys_under(prefix)) + ")");
  }
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw Error("override '" + assignment + "': malformed value: " + e.msg);
  }
  if (value.IsNull() && eq + 1 < assignment.size()) value = YAML::Node(assignment.substr(eq + 1));
  if (!value.IsDefined() || (value.IsNull() && eq + 1 == assignment.size())) value = YAML::Node("");
  set_field(r, *f, value, "override", 0);
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

void check_values(const Recipe& r, const std::string& file) {
  auto bad = [&file](const std::string& field, const std::string& problem) {
    ErrorLocation at;
    at.file = file;
    at.field = field;
    throw Error(at, problem);
  };
  if (r.name.empty()) bad("name", "must not be empty");
  if (r.lora.r <= 0) bad("lora.r", expected_found("a positive rank", std::to_string(r.lora.r)));
  if (r.lora.dropout < 0 || r.lora.dropout >= 1) bad("lora.dropout", "expected a number in [0, 1)");
  if (r.data.test_fraction < 0 || r.data.test_fraction >= 1) bad("data.test_fraction", "expected a number in [0, 1)");
  if (r.data.max_seq_len < 8) bad("data.max_seq_len", expected_found("at least 8", std::to_string(r.data.max_seq_len)));
  if (r.data.prompt_loss_weight < 0) bad("data.prompt_loss_weight", "expected a number >= 0");
  for (const auto& [k, v] : r.data.section_weights) {
    if (k != "observation" && k != "reasoning" && k != "response")
      bad("data.section_weights", "unknown section '" + k + "' (valid: observation, reasoning, response)");
    if (v < 0) bad("data.section_weights", "weights must be >= 0");
  }
  if (r.train.micro_batch < 1) bad("train.micro_batch", "expected an integer >= 1");
  if (r.train.grad_accum < 1) bad("train.grad_accum", "expected an integer >= 1");
  if (r.train.lr <= 0) bad("train.lr", "expected a positive number");
  if (r.train.epochs <= 0 && r.train.max_steps <= 0) bad("train.epochs", "expected epochs > 0 or max_steps > 0");
  if (r.train.warmup_ratio < 0 || r.train.warmup_ratio >= 1) bad("train.warmup_ratio", "expected a number in [0, 1)");
  if (r.train.max_grad_norm < 0) bad("train.max_grad_norm", "expected a number >= 0");
  if (r.devices.use.empty()) bad("devices.use", "expected at least one device");
  for (const auto& d : r.devices.use) {
    if (d != "cpu" && d.rfind("cpu:", 0) != 0 && d != "cuda" && d.rfind("cuda:", 0) != 0)
      bad("devices.use", expected_found("cpu, cuda or cuda:N", "'" + d + "'"));
  }
  if (r.eval.max_new_tokens < 1) bad("eval.max_new_tokens", "expected an integer >= 1");
  if (r.eval.batch_size < 1) bad("eval.batch_size", "expected an integer >= 1");
  if (r.eval.top_p <= 0 || r.eval.top_p > 1) bad("eval.top_p", "expected a number in (0, 1]");
}

}  // namespace

Recipe parse_recipe(const std::string& yaml_text, const std::string& name, const std::vector<std::string>& overrides) {
  Recipe r;
  r.source_path = name;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    ErrorLocation at;
    at.file = name;
    at.line = e.mark.line + 1;
    at.column = e.mark.column + 1;
    throw Error(at, "malformed YAML: " + e.msg);
  }
  if (root.IsDefined() && !root.IsNull()) {
    if (!root.IsMap()) throw Error(name + ": expected a mapping of recipe keys at the top level");
    apply_map(r, root, "", name);
  }
  for (const auto& o : overrides) apply_override(r, o);
  replace_all(r.output, "${name}", r.name);
  for (auto& p : r.data.path) replace_all(p, "${name}", r.name);
  check_values(r, name);
  return r;
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_recipe(read_text_file(path), path, overrides);
}

std::string recipe_to_yaml(const Recipe& recipe, bool with_docs) {
  YAML::Emitter out;
  std::string text;
  std::string current_section;
  for (const auto& f : recipe_fields()) {
    auto dot = f.path.find('.');
    std::string section = dot == std::string::npos ? "" : f.path.substr(0, dot);
    std::string key = dot == std::string::npos ? f.path : f.path.substr(dot + 1);
    if (section != current_section) {
      if (!section.empty()) text += "\n" + section + ":\n";
      current_section = section;
    }
    YAML::Emitter e;
    e << YAML::Flow << f.get(recipe);
    std::string line = (section.empty() ? "" : "  ") + key + ": " + e.c_str();
    if (with_docs) {
      if (line.size() < 44) line.resize(44, ' ');
      line += "  # " + f.doc;
    }
    text += line + "\n";
  }
  return text;
}

std::string recipe_reference() {
  std::string out;
  for (const auto& f : recipe_fields()) {
    out += f.path + " (" + f.type;
    if (!f.choices.empty()) out += ": " + join(f.choices);
    out += ")\n    " + f.doc + "\n";
  }
  return out;
}

}  // namespace psy
