#include "libpsy/judge/rubric.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include <yaml-cpp/yaml.h>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/train/file_hash.h"

namespace psy::judge {

namespace {

const std::set<std::string> kPromptPlaceholders = {"history", "reply", "reference", "observation",
                                                   "reasoning", "dimensions", "answer_format"};
const std::set<std::string> kRetryPlaceholders = {"problem", "answer_format"};

struct Where {
  std::string path;
  Error at(const YAML::Node& node, const std::string& field, const std::string& problem) const {
    ErrorLocation loc;
    loc.file = path;
    loc.line = node.IsDefined() ? node.Mark().line + 1 : 0;
    loc.field = field;
    return Error(loc, problem);
  }
};

std::string kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Undefined: return "nothing";
    default: return "'" + n.Scalar() + "'";
  }
}

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string text(const YAML::Node& map, const char* key, const Where& w, const std::string& field, bool required) {
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) {
    if (required) throw w.at(map, field, "missing (expected a text)");
    return "";
  }
  if (!n.IsScalar()) throw w.at(n, field, expected_found("a text", kind(n)));
  return n.Scalar();
}

int integer(const YAML::Node& n, const Where& w, const std::string& field) {
  if (!n.IsScalar()) throw w.at(n, field, expected_found("an integer", kind(n)));
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE || v < -1000000 || v > 1000000)
    throw w.at(n, field, expected_found("an integer from -1000000 to 1000000", kind(n)));
  return static_cast<int>(v);
}

void check_keys(const YAML::Node& map, const std::set<std::string>& valid, const Where& w, const std::string& where) {
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (valid.count(key)) continue;
    std::string list;
    for (const auto& v : valid) list += (list.empty() ? "" : ", ") + v;
    throw w.at(kv.first, where.empty() ? key : where + "." + key, "unknown key (valid: " + list + ")");
  }
}

// Every {word} in `t` must be one of `allowed`.
void check_placeholders(const std::string& t, const std::set<std::string>& allowed, const YAML::Node& node,
                        const Where& w, const std::string& field) {
  for (size_t open = t.find('{'); open != std::string::npos; open = t.find('{', open + 1)) {
    const size_t close = t.find('}', open);
    if (close == std::string::npos) break;
    const std::string word = t.substr(open + 1, close - open - 1);
    if (!is_identifier(word)) continue;  // not a placeholder: kept as written
    if (!allowed.count(word)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string("{") + a + "}";
      throw w.at(node, field, "unknown placeholder {" + word + "} (valid: " + list + ")");
    }
  }
}

std::string fill(const std::string& t, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t pos = 0;
  while (pos < t.size()) {
    const size_t open = t.find('{', pos);
    if (open == std::string::npos) break;
    const size_t close = t.find('}', open);
    if (close == std::string::npos) break;
    const auto it = values.find(t.substr(open + 1, close - open - 1));
    if (it == values.end()) {
      out += t.substr(pos, open + 1 - pos);
      pos = open + 1;
      continue;
    }
    out += t.substr(pos, open - pos) + it->second;
    pos = close + 1;
  }
  return out + t.substr(pos);
}

std::string trim_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Rubric parse_rubric(const std::string& yaml_text, const std::string& path) {
  const Where w{path};
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    ErrorLocation loc;
    loc.file = path;
    loc.line = e.mark.line + 1;
    loc.column = e.mark.column + 1;
    throw Error(loc, "malformed YAML: " + e.msg);
  }
  if (!root.IsMap())
    throw Error(path + ": " + expected_found("a rubric (a mapping with name, prompt and dimensions)", kind(root)));
  check_keys(root, {"name", "title", "about", "system", "prompt", "retry", "dimensions"}, w, "");
  Rubric r;
  r.path = path;
  r.sha256 = sha256_hex(yaml_text);
  r.name = text(root, "name", w, "name", true);
  if (!is_identifier(r.name))
    throw w.at(root["name"], "name", expected_found("lower-case letters, digits and _", "'" + r.name + "'"));
  r.title = text(root, "title", w, "title", false);
  r.about = text(root, "about", w, "about", false);
  r.system = text(root, "system", w, "system", false);
  r.prompt = text(root, "prompt", w, "prompt", true);
  check_placeholders(r.prompt, kPromptPlaceholders, root["prompt"], w, "prompt");
  if (r.prompt.find("{reply}") == std::string::npos)
    throw w.at(root["prompt"], "prompt", "does not show the candidate reply (expected the placeholder {reply})");
  check_placeholders(r.system, {}, root["system"], w, "system");
  r.retry = text(root, "retry", w, "retry", false);
  if (r.retry.empty())
    r.retry = "Your answer could not be read ({problem}). Answer again with exactly these lines and nothing else:\n"
              "{answer_format}";
  else
    check_placeholders(r.retry, kRetryPlaceholders, root["retry"], w, "retry");

  const YAML::Node dims = root["dimensions"];
  if (!dims.IsDefined() || dims.IsNull()) throw w.at(root, "dimensions", "missing (expected a list of dimensions)");
  if (!dims.IsSequence() || dims.size() == 0)
    throw w.at(dims, "dimensions", expected_found("a non-empty list of dimensions", kind(dims)));
  std::set<std::string> names;
  for (size_t i = 0; i < dims.size(); ++i) {
    const YAML::Node d = dims[i];
    const std::string field = "dimensions[" + std::to_string(i) + "]";
    if (!d.IsMap()) throw w.at(d, field, expected_found("a mapping with name, min, max, description", kind(d)));
    check_keys(d, {"name", "min", "max", "description", "levels"}, w, field);
    RubricDimension dim;
    dim.name = text(d, "name", w, field + ".name", true);
    if (!is_identifier(dim.name))
      throw w.at(d["name"], field + ".name", expected_found("lower-case letters, digits and _", "'" + dim.name + "'"));
    if (!names.insert(dim.name).second) throw w.at(d["name"], field + ".name", "dimension '" + dim.name + "' is given twice");
    dim.description = text(d, "description", w, field + ".description", true);
    if (!d["min"].IsDefined()) throw w.at(d, field + ".min", "missing (expected an integer)");
    if (!d["max"].IsDefined()) throw w.at(d, field + ".max", "missing (expected an integer)");
    dim.min = integer(d["min"], w, field + ".min");
    dim.max = integer(d["max"], w, field + ".max");
    if (dim.max <= dim.min)
      throw w.at(d["max"], field + ".max",
                 expected_found("a number above min (" + std::to_string(dim.min) + ")", std::to_string(dim.max)));
    const YAML::Node levels = d["levels"];
    if (levels.IsDefined() && !levels.IsNull()) {
      if (!levels.IsMap()) throw w.at(levels, field + ".levels", expected_found("a mapping score: text", kind(levels)));
      for (const auto& kv : levels) {
        const int score = integer(kv.first, w, field + ".levels");
        if (score < dim.min || score > dim.max)
          throw w.at(kv.first, field + ".levels",
                     expected_found("a score from " + std::to_string(dim.min) + " to " + std::to_string(dim.max),
                                    std::to_string(score)));
        if (!kv.second.IsScalar()) throw w.at(kv.second, field + ".levels", expected_found("a text", kind(kv.second)));
        dim.levels.emplace_back(score, kv.second.Scalar());
      }
      std::sort(dim.levels.begin(), dim.levels.end());
      for (size_t k = 1; k < dim.levels.size(); ++k)
        if (dim.levels[k].first == dim.levels[k - 1].first)
          throw w.at(levels, field + ".levels", "score " + std::to_string(dim.levels[k].first) + " is given twice");
    }
    r.dimensions.push_back(std::move(dim));
  }
  return r;
}

Rubric load_rubric(const std::string& path) {
  if (!path_exists(path)) throw Error(path + ": no such rubric file (expected a YAML rubric, e.g. rubrics/cpsycoun.yaml)");
  return parse_rubric(read_text_file(path), path);
}

std::string render_dimensions(const Rubric& rubric) {
  std::string out;
  for (const auto& d : rubric.dimensions) {
    out += "- " + d.name + " (an integer from " + std::to_string(d.min) + " to " + std::to_string(d.max) +
           "): " + trim_end(d.description) + "\n";
    for (const auto& [score, anchor] : d.levels) out += "    " + std::to_string(score) + " = " + trim_end(anchor) + "\n";
  }
  return trim_end(out);
}

std::string render_answer_format(const Rubric& rubric) {
  std::string out;
  for (const auto& d : rubric.dimensions)
    out += d.name + ": <integer from " + std::to_string(d.min) + " to " + std::to_string(d.max) + ">\n";
  return trim_end(out);
}

std::vector<JudgeMessage> judge_messages(const Rubric& rubric, const JudgeInput& input) {
  std::vector<JudgeMessage> out;
  if (!rubric.system.empty()) out.push_back({"system", trim_end(rubric.system)});
  const std::map<std::string, std::string> values = {
      {"history", input.history},       {"reply", input.reply},
      {"reference", input.reference},   {"observation", input.observation},
      {"reasoning", input.reasoning},   {"dimensions", render_dimensions(rubric)},
      {"answer_format", render_answer_format(rubric)}};
  out.push_back({"user", trim_end(fill(rubric.prompt, values))});
  return out;
}

std::string retry_message(const Rubric& rubric, const std::string& problem) {
  return trim_end(fill(rubric.retry, {{"problem", problem}, {"answer_format", render_answer_format(rubric)}}));
}

}  // namespace psy::judge
