// psy tokenize: the token ids a model's tokenizer gives for text, as Hugging Face's
// `tokenizer(text)["input_ids"]` gives them (tokenizer.json or tokenizer.model).
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/text/jinja_chat_template.h"
#include "libpsy/text/tokenizer.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

const char* kTokenizeEpilog =
    "Ids are what Hugging Face's tokenizer(text)[\"input_ids\"] gives: added and special tokens spelled\n"
    "in the text become their ids and the post-processor's BOS/EOS are added. --mode safe shows what\n"
    "psy itself uses for text inside prompts and training samples instead: special tokens spelled in\n"
    "the text stay text, and no BOS/EOS.\n"
    "Input lines of --input are JSON objects {\"text\": ...}. --json prints one line per input:\n"
    "{\"ids\": [...], \"pieces\": [...]}; otherwise ids and pieces on two lines.\n"
    "--chat: inputs are {\"messages\": [{\"role\": ..., \"content\": ...}, ...]} (--text takes the same JSON),\n"
    "rendered by the model folder's own chat template (chat_template.jinja or tokenizer_config.json) as\n"
    "apply_chat_template(messages, add_generation_prompt=...) renders them; the ids are what\n"
    "apply_chat_template(..., tokenize=True) gives (added tokens matched, no post-processor BOS/EOS);\n"
    "--json adds the rendered \"text\".";

// One thing to tokenize, with where it came from for messages.
struct TokenizeInput {
  std::string where;  // "--text" or "FILE:LINE"
  std::string text;   // with --chat: the JSON of the input until it is rendered
};

struct TokenizeSettings {
  bool json = false;
  bool safe = false;  // psy's own encode(): special tokens never come from text
  bool chat = false;  // inputs are messages rendered by the model's chat template
  bool add_generation_prompt = false;
};

// --chat: renders {"messages": [...]} (or a bare list) with the model's template.
std::string render_chat_input(const JinjaChatTemplate& tmpl, const TokenizeInput& in, const TokenizeSettings& s) {
  const nlohmann::json j = parse_json_text(in.text, in.where);
  const nlohmann::json* messages = &j;
  if (j.is_object()) {
    if (!j.contains("messages"))
      throw Error(in.where + ": " + expected_found("an object with \"messages\"", j.dump().substr(0, 60)));
    messages = &j["messages"];
  }
  return tmpl.render(template_messages_from_json(messages->dump(), in.where), s.add_generation_prompt);
}

std::vector<TokenizeInput> read_inputs(const ParsedArgs& a) {
  std::vector<TokenizeInput> inputs;
  if (a.given("text")) inputs.push_back({"--text", a.get("text")});
  if (a.given("input")) {
    const std::string path = a.get("input");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open the input file");
    std::string line;
    long line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = path + ":" + std::to_string(line_no);
      const nlohmann::json j = parse_json_text(line, where);
      if (a.flag("chat")) {
        inputs.push_back({where, line});
        continue;
      }
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
        throw Error(where + ": " + expected_found("an object with a string \"text\"", j.dump().substr(0, 60)));
      inputs.push_back({where, j["text"].get<std::string>()});
    }
  }
  return inputs;
}

std::vector<int32_t> encode_input(const Tokenizer& tok, const TokenizeInput& in, const TokenizeSettings& s) {
  if (s.chat) return tok.encode_like_hf(in.text, /*add_special_tokens=*/false);
  return s.safe ? tok.encode(in.text) : tok.encode_like_hf(in.text);
}

void print_result(const Tokenizer& tok, const std::vector<int32_t>& ids, const TokenizeSettings& s,
                  const std::string& rendered) {
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  for (int32_t id : ids) pieces.push_back(tok.id_to_piece(id));
  if (s.json) {
    nlohmann::json row;
    row["ids"] = ids;
    row["pieces"] = pieces;
    if (s.chat) row["text"] = rendered;
    std::cout << row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
  std::cout << "\n";
  for (size_t i = 0; i < pieces.size(); ++i) std::cout << (i ? " | " : "") << pieces[i];
  std::cout << "\n";
}

}  // namespace

int cmd_tokenize(const Args& args) {
  ArgParser p("psy tokenize", "Show the token ids and pieces a model's tokenizer gives for text.");
  p.option("model", "DIR", "model folder (tokenizer.json or tokenizer.model, tokenizer_config.json)", "")
      .option("text", "T", "text to tokenize", "")
      .option("input", "FILE.jsonl", "texts to tokenize, one {\"text\": ...} per line", "")
      .option("mode", "hf|safe", "hf: as tokenizer(text)[\"input_ids\"]; safe: psy's encode()", "hf")
      .flag("json", "one JSON line per input with ids and pieces")
      .flag("chat", "inputs are {\"messages\": [...]} rendered by the model's own chat template")
      .flag("add-generation-prompt", "with --chat: end with the assistant's generation prompt")
      .epilog(kTokenizeEpilog);
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.get("model").empty()) throw Error("psy tokenize: --model DIR is required");
  if (!a.given("text") && !a.given("input")) throw Error("psy tokenize: give --text T or --input FILE.jsonl");
  TokenizeSettings s;
  s.json = a.flag("json");
  const std::string mode = a.get("mode");
  if (mode != "hf" && mode != "safe") throw Error("psy tokenize: --mode " + expected_found("hf or safe", "'" + mode + "'"));
  s.safe = mode == "safe";
  s.chat = a.flag("chat");
  s.add_generation_prompt = a.flag("add-generation-prompt");
  if (s.add_generation_prompt && !s.chat) throw Error("psy tokenize: --add-generation-prompt needs --chat");
  if (s.chat && s.safe) throw Error("psy tokenize: --chat ids are apply_chat_template's (--mode hf)");
  std::optional<JinjaChatTemplate> tmpl;
  if (s.chat) {
    tmpl = JinjaChatTemplate::find(a.get("model"));
    if (!tmpl)
      throw Error("psy tokenize --chat: " + a.get("model") +
                  " has no chat template (no chat_template.jinja, no \"chat_template\" in tokenizer_config.json)");
  }
  const Tokenizer tok = Tokenizer::load(a.get("model"));
  for (TokenizeInput in : read_inputs(a)) {
    if (s.chat) in.text = render_chat_input(*tmpl, in, s);
    print_result(tok, encode_input(tok, in, s), s, in.text);
  }
  return 0;
}

}  // namespace psy::cli
