#include "libpsy/data/sample_export.h"

#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"

namespace psy {

namespace {

using ojson = nlohmann::ordered_json;

double rounded(float w) { return std::round(static_cast<double>(w) * 1e6) / 1e6; }

ojson turn_id_json(const TokenizedSample& s) { return s.turn_id.empty() ? ojson(nullptr) : ojson(s.turn_id); }

bool is_content(const SampleSegment& g) {
  return g.section != "template" && g.section != "bos" && g.section != "eos" && g.section != "control";
}

// Messages rebuilt from content segments: a run of one role is one message.
ojson messages_json(const TokenizedSample& s, bool with_weight) {
  ojson msgs = ojson::array();
  std::string role, content;
  bool target = false;
  auto flush = [&]() {
    if (role.empty()) return;
    ojson m;
    m["role"] = role;
    m["content"] = content;
    if (with_weight && role == "assistant") m["weight"] = target ? 1 : 0;
    msgs.push_back(std::move(m));
    role.clear();
    content.clear();
    target = false;
  };
  for (const auto& g : s.segments) {
    if (!is_content(g)) continue;
    if (g.role != role) flush();
    role = g.role;
    content += g.text;
    target |= g.target;
  }
  flush();
  return msgs;
}

}  // namespace

ExportFormat parse_export_format(const std::string& name) {
  if (name == "psy") return ExportFormat::Psy;
  if (name == "messages") return ExportFormat::Messages;
  if (name == "openai") return ExportFormat::OpenAI;
  throw Error("--format: " + expected_found("psy, messages or openai", "'" + name + "'"));
}

std::string sample_to_json(const TokenizedSample& s, ExportFormat format) {
  ojson j;
  if (format != ExportFormat::OpenAI) {
    j["session_id"] = s.session_id;
    j["turn_id"] = turn_id_json(s);
    j["task"] = s.task;
    if (!s.split.empty()) j["split"] = s.split;
    if (s.task.rfind("rag_", 0) == 0) j["retrieved"] = s.retrieved;
  }
  if (format == ExportFormat::Psy) {
    ojson segs = ojson::array();
    for (const auto& g : s.segments) {
      ojson o;
      o["role"] = g.role;
      o["section"] = g.section;
      o["text"] = g.text;
      o["weight"] = rounded(g.weight);
      o["target"] = g.target;
      segs.push_back(std::move(o));
    }
    j["segments"] = std::move(segs);
    j["input_ids"] = s.input_ids;
    ojson w = ojson::array();
    for (float x : s.loss_weights) w.push_back(rounded(x));
    j["loss_weights"] = std::move(w);
    j["truncated"] = s.truncated;
  } else {
    j["messages"] = messages_json(s, format == ExportFormat::OpenAI);
  }
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

void write_samples_jsonl(std::ostream& out, const std::vector<TokenizedSample>& samples, ExportFormat format) {
  for (const auto& s : samples) out << sample_to_json(s, format) << '\n';
}

std::string show_sample(const TokenizedSample& s, bool color) {
  std::ostringstream out;
  out << "== " << s.session_id << (s.turn_id.empty() ? "" : " turn " + s.turn_id) << "  task " << s.task << "  "
      << s.size() << " tokens, " << s.weighted_tokens() << " weighted"
      << (s.truncated ? ", truncated (" + std::to_string(s.dropped_history) + " history dropped)" : "") << "\n";
  if (s.task.rfind("rag_", 0) == 0) {
    out << "retrieved cases (best first):";
    for (const auto& id : s.retrieved) out << " " << id;
    out << (s.retrieved.empty() ? " none (dropped to fit, or none available)\n" : "\n");
  }
  const char* on = color ? "\x1b[1;32m" : "[[";
  const char* off = color ? "\x1b[0m" : "]]";
  bool in_target = false;
  for (const auto& g : s.segments) {
    if (g.target != in_target) {
      out << (g.target ? on : off);
      in_target = g.target;
    }
    out << g.text;
  }
  if (in_target) out << off;
  out << "\n-- segments (role/section: tokens x weight)\n";
  for (const auto& g : s.segments) {
    out << fmt::format("  {:<10} {:<14} {:>5} x {:<6g}{}\n", g.role, g.section, g.end - g.begin, g.weight,
                       g.target ? "  target" : "");
  }
  return out.str();
}

}  // namespace psy
