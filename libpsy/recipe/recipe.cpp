#include "libpsy/recipe/recipe.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"
#include "libpsy/recipe/recipe_schema.h"

namespace psy {

namespace {

using recipe_detail::FieldSpec;
using recipe_detail::recipe_fields;

constexpr double kNoLimit = std::numeric_limits<double>::max();
constexpr long long kNoIntLimit = std::numeric_limits<long long>::max();

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

// Where each key's value came from, for messages: "recipes/q.yaml" + line, or "override 'k=v'".
struct Origin {
  std::string file;
  long line = 0;
};
using Origins = std::map<std::string, Origin>;

ErrorLocation location_of(const Origins& origins, const std::string& path, const std::string& file) {
  ErrorLocation at;
  auto it = origins.find(path);
  at.file = it == origins.end() ? file : it->second.file;
  at.line = it == origins.end() ? 0 : it->second.line;
  at.field = path;
  return at;
}

void set_field(Recipe& r, const FieldSpec& f, const YAML::Node& value, const Origin& origin) {
  try {
    f.set(r, value);
  } catch (const recipe_detail::TypeError& e) {
    ErrorLocation at;
    at.file = origin.file;
    at.line = origin.line;
    at.field = f.path;
    std::string problem = e.expected.rfind("one of ", 0) == 0
                              ? "expected " + e.expected
                              : expected_found(e.expected, recipe_detail::node_kind(value));
    throw Error(at, problem);
  }
}

void apply_map(Recipe& r, const YAML::Node& map, const std::string& prefix, const std::string& file, Origins& origins) {
  std::map<std::string, long> seen;  // key -> line: yaml-cpp keeps the last of two equal keys silently
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    const std::string path = prefix + key;
    const long line = kv.first.Mark().line + 1;
    if (!seen.emplace(key, line).second) {
      ErrorLocation at{file, line, 0, "", "", ""};
      throw Error(at, "duplicate key '" + path + "' (first given on line " + std::to_string(seen[key]) + ")");
    }
    if (is_section(path)) {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) {
        ErrorLocation at{file, line, 0, "", "", path};
        throw Error(at, expected_found("a mapping with keys " + join(keys_under(path + ".")),
                                       recipe_detail::node_kind(kv.second)));
      }
      apply_map(r, kv.second, path + ".", file, origins);
      continue;
    }
    const FieldSpec* f = find_field(path);
    if (!f) {
      ErrorLocation at{file, line, 0, "", "", ""};
      std::string where = prefix.empty() ? "at the top level" : "in section '" + prefix.substr(0, prefix.size() - 1) + "'";
      throw Error(at, "unknown key '" + path + "' " + where + " (valid: " + join(keys_under(prefix)) + ")");
    }
    origins[path] = Origin{file, line};
    set_field(r, *f, kv.second, origins[path]);
  }
}

void apply_override(Recipe& r, const std::string& assignment, Origins& origins) {
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
  origins[path] = Origin{"override '" + assignment + "'", 0};
  set_field(r, *f, value, origins[path]);
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// One rule per key, checked after the file and the overrides are applied, so `psy recipe show`
// rejects exactly what `psy train` and `psy eval` would. Types (integer width, finiteness) are
// checked when a value is read; these are the ranges.
void check_values(const Recipe& r, const std::string& file, const Origins& origins) {
  auto bad = [&](const std::string& field, const std::string& expected, const std::string& found) {
    throw Error(location_of(origins, field, file), expected_found(expected, found));
  };
  auto in_range = [&](const std::string& field, double v, double lo, double hi, bool lo_open, bool hi_open) {
    const bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    if (ok) return;
    std::string allowed;
    if (hi == kNoLimit) allowed = lo_open ? "a number > " + num(lo) : "a number >= " + num(lo);
    else allowed = std::string("a number in ") + (lo_open ? "(" : "[") + num(lo) + ", " + num(hi) + (hi_open ? ")" : "]");
    bad(field, allowed, num(v));
  };
  auto int_range = [&](const std::string& field, long long v, long long lo, long long hi) {
    if (v >= lo && v <= hi) return;
    bad(field, hi == kNoIntLimit ? "an integer >= " + std::to_string(lo)
                                 : "an integer from " + std::to_string(lo) + " to " + std::to_string(hi),
        std::to_string(v));
  };
  if (r.name.empty()) bad("name", "a non-empty name", "''");
  // ${name} is substituted into output and data.path once; a name holding it would change them
  // again each time the resolved recipe (the run folder's recipe.yaml) is read back.
  if (r.name.find("${name}") != std::string::npos) bad("name", "a name without '${name}'", "'" + r.name + "'");
  int_range("seed", r.seed, 0, kNoIntLimit);
  int_range("threads", r.threads, 0, 4096);
  int_range("lora.r", r.lora.r, 1, 65536);
  in_range("lora.alpha", r.lora.alpha, 0, kNoLimit, true, false);
  in_range("lora.dropout", r.lora.dropout, 0, 1, false, true);
  in_range("data.test_fraction", r.data.test_fraction, 0, 1, false, true);
  int_range("data.max_seq_len", r.data.max_seq_len, 16, 1 << 22);
  int_range("data.retrieval_k", r.data.retrieval_k, 1, 1 << 20);
  int_range("data.retrieval_query_turns", r.data.retrieval_query_turns, 0, 1 << 20);
  int_range("data.retrieval_max_tokens", r.data.retrieval_max_tokens, 0, 1 << 22);
  in_range("data.prompt_loss_weight", r.data.prompt_loss_weight, 0, 1, false, false);
  for (const auto& [k, v] : r.data.section_weights) {
    if (k != "observation" && k != "reasoning" && k != "response")
      bad("data.section_weights", "a section among observation, reasoning, response", "'" + k + "'");
    in_range("data.section_weights", v, 0, kNoLimit, false, false);
  }
  if (r.data.task == "mix" && r.data.mix_tasks.empty()) bad("data.mix_tasks", "at least one task for task: mix", "[]");
  if (r.data.task == "mix" && !r.data.instruction.empty())
    bad("data.instruction", "no instruction with task: mix (each mixed task keeps its own)", "'" + r.data.instruction + "'");
  in_range("train.epochs", r.train.epochs, 0, 1e6, false, false);
  int_range("train.max_steps", r.train.max_steps, 0, kNoIntLimit);
  if (r.train.epochs <= 0 && r.train.max_steps <= 0) bad("train.epochs", "epochs > 0 or max_steps > 0", "0");
  int_range("train.micro_batch", r.train.micro_batch, 1, 65536);
  int_range("train.grad_accum", r.train.grad_accum, 1, 1 << 20);
  in_range("train.lr", r.train.lr, 0, kNoLimit, true, false);
  in_range("train.warmup_ratio", r.train.warmup_ratio, 0, 1, false, true);
  int_range("train.warmup_steps", r.train.warmup_steps, 0, kNoIntLimit);
  in_range("train.min_lr_ratio", r.train.min_lr_ratio, 0, 1, false, false);
  in_range("train.weight_decay", r.train.weight_decay, 0, kNoLimit, false, false);
  in_range("train.max_grad_norm", r.train.max_grad_norm, 0, kNoLimit, false, false);
  int_range("train.save_every", r.train.save_every, 0, kNoIntLimit);
  int_range("train.keep_last", r.train.keep_last, 0, 1 << 20);
  int_range("train.eval_every", r.train.eval_every, 0, kNoIntLimit);
  int_range("train.early_stop_patience", r.train.early_stop_patience, 0, 1 << 20);
  int_range("train.log_every", r.train.log_every, 1, kNoIntLimit);
  if (r.devices.use.empty()) bad("devices.use", "at least one device", "an empty list");
  for (int layers : r.devices.split) int_range("devices.split", layers, 1, 1 << 20);
  // Combinations psy train and psy eval refuse, refused here so `psy recipe show` agrees with them.
  if (r.devices.use.size() > 1 && r.devices.parallel == ParallelMode::None)
    bad("devices.parallel", "data or layers with " + std::to_string(r.devices.use.size()) + " devices", "none");
  const bool any_cuda = r.any_cuda();
  if (!any_cuda && (r.train.precision == WeightDtype::Fp16 || r.model.dtype == WeightDtype::Fp16))
    throw Error(location_of(origins, r.train.precision == WeightDtype::Fp16 ? "train.precision" : "model.dtype", file),
                "fp16 needs a CUDA device (devices.use: [cuda:0]); psy does not run fp16 on CPU (LibTorch 1.13 has "
                "no fp16 matrix multiplication there): on CPU use bf16 or fp32");
  const bool full = r.train.mode == TrainMode::Full;
  if (full && (r.train.precision != WeightDtype::Fp32 || r.model.dtype != WeightDtype::Fp32))
    bad("train.mode", "model.dtype fp32 and train.precision fp32 with mode full (fp32 master weights)",
        std::string(choice_name(r.model.dtype)) + " / " + choice_name(r.train.precision));
  if (full && r.model.quantization != Quantization::None)
    bad("model.quantization", "none with train.mode full (nf4 quantises a frozen base for LoRA)",
        choice_name(r.model.quantization));
  if (r.data.reasoning_slot == ReasoningSlot::Think && r.model.chat_template != "auto")
    bad("data.reasoning_slot", "think only with model.chat_template auto (a template with a reasoning_content slot)",
        "think with chat_template " + r.model.chat_template);
  int_range("eval.max_new_tokens", r.eval.max_new_tokens, 1, 1 << 22);
  in_range("eval.temperature", r.eval.temperature, 0, kNoLimit, true, false);
  int_range("eval.top_k", r.eval.top_k, 0, kNoIntLimit);
  in_range("eval.top_p", r.eval.top_p, 0, 1, true, false);
  in_range("eval.repetition_penalty", r.eval.repetition_penalty, 0, kNoLimit, true, false);
  int_range("eval.batch_size", r.eval.batch_size, 1, 65536);
  int_range("eval.prefix_cache_mb", r.eval.prefix_cache_mb, 0, 1 << 30);
  int_range("eval.max_samples", r.eval.max_samples, 0, kNoIntLimit);
  int_range("eval.judge.max_new_tokens", r.eval.judge.max_new_tokens, 1, 1 << 20);
  in_range("eval.judge.temperature", r.eval.judge.temperature, 0, kNoLimit, false, false);
  int_range("eval.judge.batch_size", r.eval.judge.batch_size, 1, 65536);
  int_range("eval.judge.max_history_chars", r.eval.judge.max_history_chars, 0, kNoIntLimit);
  if (!any_cuda && r.eval.judge.dtype == WeightDtype::Fp16)
    bad("eval.judge.dtype", "bf16 or fp32 on CPU (fp16 needs a CUDA device in devices.use)", "fp16");
  if (!r.eval.judge.model.empty() && r.eval.judge.rubrics.empty())
    bad("eval.judge.rubrics", "at least one rubric file with eval.judge.model", "an empty list");
}

}  // namespace

std::optional<DeviceName> parse_device_name(const std::string& d) {
  for (auto kind : {DeviceName::Kind::Cpu, DeviceName::Kind::Cuda}) {
    const std::string prefix = kind == DeviceName::Kind::Cuda ? "cuda" : "cpu";
    if (d == prefix) return DeviceName{kind, -1};
    if (d.rfind(prefix + ":", 0) != 0 || d.size() == prefix.size() + 1 || d.size() > prefix.size() + 4) continue;
    if (d.find_first_not_of("0123456789", prefix.size() + 1) != std::string::npos) continue;
    return DeviceName{kind, std::stoi(d.substr(prefix.size() + 1))};
  }
  return std::nullopt;
}

bool Recipe::any_cuda() const {
  for (const auto& d : devices.use)
    if (d.is_cuda()) return true;
  return false;
}

std::string Recipe::tokenizer_location() const {
  if (!model.tokenizer.empty()) return model.tokenizer;
  if (!model.path.empty()) return model.path;
  throw Error(source_path + ": model.tokenizer (or model.path) must name a SentencePiece tokenizer");
}

Recipe parse_recipe(const std::string& yaml_text, const std::string& name, const std::vector<std::string>& overrides) {
  // YAML is Unicode text; invalid UTF-8 would come back changed from the resolved recipe.yaml.
  if (const size_t bad = find_invalid_utf8(yaml_text); bad != std::string::npos) {
    ErrorLocation at;
    at.file = name;
    at.line = 1 + static_cast<long>(std::count(yaml_text.begin(), yaml_text.begin() + static_cast<long>(bad), '\n'));
    throw Error(at, "invalid UTF-8 (byte offset " + std::to_string(bad) + ")");
  }
  for (const auto& o : overrides)
    if (find_invalid_utf8(o) != std::string::npos) throw Error("override '" + o + "': invalid UTF-8");
  Recipe r;
  r.source_path = name;
  Origins origins;
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
    apply_map(r, root, "", name, origins);
  }
  for (const auto& o : overrides) apply_override(r, o, origins);
  replace_all(r.output, "${name}", r.name);
  for (auto& p : r.data.path) replace_all(p, "${name}", r.name);
  check_values(r, name, origins);
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
