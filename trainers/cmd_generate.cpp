// psy generate: continue prompts with a model (and optionally a LoRA adapter).
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/core/jsonl_reader.h"
#include "libpsy/core/text_file.h"
#include "libpsy/generate/chat_prompt.h"
#include "libpsy/generate/continuous_batching.h"
#include "libpsy/generate/generator.h"
#include "libpsy/run/run_folder.h"
#include "trainers/commands.h"
#include "trainers/model_args.h"

namespace psy::cli {

namespace {

ChatMessage message(ChatRole role, const std::string& text) {
  ChatMessage m;
  m.role = role;
  m.parts.push_back({text, role == ChatRole::Assistant ? "response" : "client", false});
  return m;
}

ChatRole parse_role(const std::string& role, const std::string& where) {
  if (role == "system") return ChatRole::System;
  if (role == "user") return ChatRole::User;
  if (role == "assistant") return ChatRole::Assistant;
  throw Error(where + ": role '" + role + "' (valid: system, user, assistant)");
}

}  // namespace

int cmd_generate(const Args& args) {
  ArgParser p("psy generate",
              "Generate continuations with a Hugging Face Llama/Mistral model (greedy by default).\n"
              "--input FILE.jsonl takes one JSON object per line: {\"prompt\": TEXT}, {\"messages\": [{\"role\":\n"
              "\"user\", \"content\": TEXT}, ...]} or {\"input_ids\": [ids]}. Output: one JSON line per input with\n"
              "index, text, new_ids and finish_reason (eos, stop_string, length), on stdout or --out.\n"
              "The model: --model DIR [--adapter DIR], or --checkpoint PATH (a run folder, a checkpoint, an adapter\n"
              "or a merged model; the same option as in psy eval, chat and merge).");
  add_model_source_options(p, "Hugging Face model folder (with --checkpoint's adapter: its base model)");
  p.option("prompt", "TEXT", "one prompt (or use --input)", "")
      .option("input", "FILE", "JSON Lines of prompts (see above)", "")
      .option("out", "FILE", "write JSON Lines here instead of stdout", "");
  add_prompt_options(p, "none");
  p.multi_option("stop", "TEXT", "stop strings (generation ends before them)")
      .option("batch-size", "N", "sequences decoded together (continuous batching: a finished one's slot takes the next prompt)", "8");
  add_sampling_options(p, SamplingDefaults{});
  add_decoder_options(p);
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.get("prompt").empty() == a.get("input").empty()) throw Error("psy generate: give exactly one of --prompt and --input");
  const ModelChoice model = model_choice_from_args(a, "psy generate");
  const PromptSettings prompt = prompt_settings_from_args(a, model.model_dir);
  const auto& tmpl = prompt.chat_template;
  // The tokenizer is needed for text prompts and for decoding; inputs given as ids work without one.
  const std::string& tok_path = prompt.tokenizer_path;
  std::optional<Tokenizer> tok;
  if (!a.get("tokenizer").empty() || path_exists(tok_path + "/tokenizer.json") || path_exists(tok_path + "/tokenizer.model"))
    tok = Tokenizer::load(tok_path);
  auto tokenizer_for = [&](const std::string& what) -> const Tokenizer& {
    if (!tok) throw Error("psy generate: " + what + " needs a tokenizer: " + tok_path + " has neither tokenizer.json nor tokenizer.model (give --tokenizer)");
    return *tok;
  };
  // Writing into a run folder takes its lock: one writing process per run.
  std::optional<FolderLock> lock;
  const std::string run = a.get("out").empty() ? "" : enclosing_run_folder(a.get("out"));
  if (!run.empty()) lock.emplace(RunFolder(run).lock("psy generate"));

  std::vector<std::vector<int64_t>> prompts;
  std::vector<std::pair<std::size_t, std::string>> id_prompt_lines;  // prompts given as ids, and their line
  auto from_messages = [&](std::vector<ChatMessage> messages) {
    if (!prompt.system.empty() && tmpl) messages.insert(messages.begin(), message(ChatRole::System, prompt.system));
    prompts.push_back(generation_prompt_ids(tokenizer_for("a text prompt"), tmpl, messages));
  };
  if (!a.get("prompt").empty()) {
    from_messages({message(ChatRole::User, a.get("prompt"))});
  } else {
    JsonlReader input = JsonlReader::open(a.get("input"));
    JsonLine line;
    while (input.next(line)) {
      const std::string& where = line.where;
      const nlohmann::json& j = line.value;
      if (j.contains("input_ids")) {
        const auto& ids = j["input_ids"];
        if (!ids.is_array() || ids.empty())
          throw Error(where + ": \"input_ids\" " + expected_found("a non-empty list of token ids", ids.dump()));
        std::vector<int64_t> row;
        for (const auto& x : ids) {
          if (!x.is_number_integer()) throw Error(where + ": \"input_ids\" " + expected_found("integers", x.dump()));
          row.push_back(x.get<int64_t>());
        }
        prompts.push_back(std::move(row));
        id_prompt_lines.emplace_back(prompts.size() - 1, where);
      } else if (j.contains("prompt") && j["prompt"].is_string()) {
        from_messages({message(ChatRole::User, j["prompt"].get<std::string>())});
      } else if (j.contains("messages") && j["messages"].is_array()) {
        std::vector<ChatMessage> messages;
        for (const auto& m : j["messages"]) {
          if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() ||
              !m["content"].is_string())
            throw Error(where + ": each message needs a string role and a string content");
          messages.push_back(message(parse_role(m["role"].get<std::string>(), where), m["content"].get<std::string>()));
        }
        from_messages(messages);
      } else {
        throw Error(where + ": expected \"prompt\", \"messages\" or \"input_ids\"");
      }
    }
  }

  if (prompts.empty()) throw Error(a.get("input") + ": no prompts (expected one JSON object per line)");
  Decoder decoder = load_decoder_from_args(a, model);
  // Checked before the model runs: LibTorch's "index out of range in self" names no line.
  for (const auto& [index, where] : id_prompt_lines)
    for (const int64_t id : prompts[index])
      if (id < 0 || id >= decoder->config().vocab_size)
        throw Error(where + ": token id " + expected_found("from 0 to " + std::to_string(decoder->config().vocab_size - 1) +
                                                             " (the model's vocab_size)", std::to_string(id)));
  GenerationOptions g = generation_options_from_args(a);
  g.eos_ids = tok ? stop_token_ids(decoder->config(), *tok, tmpl) : decoder->config().eos_token_ids;
  g.pad_id = tok && tok->pad_id() >= 0 ? tok->pad_id() : decoder->config().pad_token_id.value_or(0);
  g.stop_strings = a.list("stop");
  for (const auto& stop : g.stop_strings)
    if (stop.empty()) throw Error("psy generate: --stop " + expected_found("a non-empty text", "an empty one"));
  if (!g.stop_strings.empty()) tokenizer_for("--stop");
  if (tok) {
    g.detokenize = [&tok](const std::vector<int64_t>& ids) {
      return tok->decode(std::vector<int32_t>(ids.begin(), ids.end()), /*render_special=*/false);
    };
  }
  // Continuous batching over --batch-size slots; lines are printed in input order as they complete.
  const long slots = std::max(1L, a.get_long("batch-size"));
  std::string out;
  InputOrder<GeneratedRow> in_order(0, [&](std::size_t i, GeneratedRow& row) {
    nlohmann::ordered_json j;
    j["index"] = i;
    j["text"] = row.text;
    j["new_ids"] = row.new_ids;
    j["finish_reason"] = row.finish_reason;
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (a.get("out").empty()) std::cout << line << std::flush;
    out += line;
  });
  generate_continuous(*decoder, prompts, g, slots, [&g](std::size_t i) { return g.seed + 0x9E3779B97F4A7C15ull * i; },
                      [&](std::size_t i, GeneratedRow row) { in_order.put(i, std::move(row)); });
  if (!a.get("out").empty()) write_file_atomic(a.get("out"), out);
  return 0;
}

}  // namespace psy::cli
