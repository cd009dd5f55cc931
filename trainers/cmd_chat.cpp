// psy chat: an interactive counseling chat in the terminal. The model's observation and
// reasoning (chain-of-thought sections) are shown dimmed above its response.
// Ctrl-C ends the current generation, Ctrl-D (end of input) quits.
#include <atomic>
#include <csignal>
#include <iostream>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/data/cot_format.h"
#include "libpsy/generate/chat_prompt.h"
#include "libpsy/generate/generator.h"
#include "trainers/commands.h"
#include "trainers/model_args.h"

namespace psy::cli {

namespace {

volatile std::sig_atomic_t g_interrupt = 0;
extern "C" void on_sigint(int) { g_interrupt = 1; }

const char* kDim = "\033[2m";
const char* kReset = "\033[0m";

// Where the response section starts in `text` (after its marker), or npos.
std::size_t response_start(const std::string& text, const std::string& marker) {
  std::size_t at = text.find(marker);
  if (at == std::string::npos) return at;
  at += marker.size();
  while (at < text.size() && text[at] == ' ') ++at;
  return at;
}

}  // namespace

int cmd_chat(const Args& args) {
  ArgParser p("psy chat",
              "Chat with a model in the terminal. The generated observation and reasoning are shown dimmed\n"
              "above the response. Ctrl-C stops the current answer; Ctrl-D quits.\n"
              "The model: --model DIR [--adapter DIR], or --checkpoint PATH (a run folder, a checkpoint, an adapter\n"
              "or a merged model; the same option as in psy eval, generate and merge).");
  add_model_source_options(p, "Hugging Face model folder (with --checkpoint's adapter: its base model)");
  add_prompt_options(p, "mistral");
  p.option("lang", "en|zh", "language of the chain-of-thought markers", "en")
      .flag("hide-reasoning", "show only the response");
  SamplingDefaults sampling;
  sampling.max_new_tokens = "512";
  sampling.temperature = "0.7";
  sampling.top_p = "0.9";
  sampling.repetition_penalty = "1.05";
  add_sampling_options(p, sampling);
  add_decoder_options(p);
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  const ModelChoice model = model_choice_from_args(a, "psy chat");
  const PromptSettings prompt = prompt_settings_from_args(a, model.model_dir);
  const std::optional<ChatFormat>& tmpl = prompt.chat_template;
  const CotMarkers markers = default_cot_format(a.get("lang")).markers;
  Tokenizer tokenizer = Tokenizer::load(prompt.tokenizer_path);
  Decoder decoder = load_decoder_from_args(a, model);
  GenerationOptions g = generation_options_from_args(a);
  g.eos_ids = stop_token_ids(decoder->config(), tokenizer, tmpl);
  g.interrupted = [] { return g_interrupt != 0; };
  const bool hide = a.flag("hide-reasoning");
  const std::string response_marker = marker_prefix(markers.response);

  std::vector<ChatMessage> history;
  if (!prompt.system.empty()) {
    ChatMessage sys;
    sys.role = ChatRole::System;
    sys.parts.push_back({prompt.system, "instruction", false});
    history.push_back(sys);
  }
  std::signal(SIGINT, on_sigint);
  uint64_t turn = 0;
  std::cerr << "psy chat: type a message and press Enter; Ctrl-C stops an answer, Ctrl-D quits.\n";
  while (true) {
    std::cout << "\nyou> " << std::flush;
    std::string line;
    g_interrupt = 0;
    if (!std::getline(std::cin, line)) {
      if (g_interrupt) {  // Ctrl-C at the prompt: keep going
        std::cin.clear();
        continue;
      }
      break;
    }
    if (line.empty()) continue;
    ChatMessage user;
    user.role = ChatRole::User;
    user.parts.push_back({line, "client", false});
    history.push_back(user);
    std::vector<int64_t> prompt = generation_prompt_ids(tokenizer, tmpl, history);

    std::vector<int64_t> ids;
    std::string shown;  // text printed so far (of the full generated text)
    std::size_t split = std::string::npos;  // start of the response in the text
    std::cout << "\n" << std::flush;
    g.seed = static_cast<uint64_t>(a.get_long("seed")) + turn++;  // a new draw per answer
    g.on_token = [&](int64_t, int64_t token) {
      if (std::find(g.eos_ids.begin(), g.eos_ids.end(), token) != g.eos_ids.end()) return;
      ids.push_back(token);
      std::string text = tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()), false);
      if (split == std::string::npos) split = response_start(text, response_marker);
      // Print what is new; the reasoning part dimmed (or withheld when hidden).
      const std::size_t reasoning_end = split == std::string::npos ? text.size() : split;
      if (shown.size() < reasoning_end) {
        if (!hide) std::cout << kDim << text.substr(shown.size(), reasoning_end - shown.size()) << kReset;
        shown = text.substr(0, reasoning_end);
      }
      if (split != std::string::npos && text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) {
        if (shown.size() == split && !hide) std::cout << "\n";
        std::cout << text.substr(shown.size());
        shown = text;
      }
      std::cout << std::flush;
    };
    auto result = generate(*decoder, {prompt}, g);
    std::string text = tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()), false);
    if (hide && split == std::string::npos) std::cout << text;  // no markers: the whole text is the response
    if (result.rows[0].finish_reason == "interrupted") std::cout << kReset << " [stopped]";
    std::cout << "\n";
    ChatMessage reply;
    reply.role = ChatRole::Assistant;
    reply.parts.push_back({text, "response", false});
    history.push_back(reply);
  }
  std::cout << "\n";
  return 0;
}

}  // namespace psy::cli
