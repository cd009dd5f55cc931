// Command-line options shared by the subcommands that load a decoder (psy generate, chat, logits)
// and sample from it (generate, chat): each option, its help and its parsing written once.
#pragma once
#include <optional>
#include <string>

#include "libpsy/core/cli_args.h"
#include "libpsy/generate/chat_prompt.h"
#include "libpsy/generate/generator.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/run/model_source.h"

namespace psy::cli {

// What --checkpoint PATH may be, for the --help of every command that takes it (eval, generate,
// chat, merge): the same words everywhere.
extern const char* const kCheckpointHelp;

// --model DIR and --checkpoint PATH (psy generate, chat, merge; --adapter comes with
// add_decoder_options or the command). `model_help` says what --model is to this command.
ArgParser& add_model_source_options(ArgParser& p, const std::string& model_help);

// The weights the user chose with --model, --checkpoint and --adapter:
//   --checkpoint PATH   resolved by resolve_model_source (a run folder, checkpoint, last/best, an
//                       adapter or a merged model); an adapter's base model is --model, else the
//                       local folder its adapter_config.json names;
//   --model DIR [--adapter DIR]  as given.
// --checkpoint and --adapter exclude each other, as do a merged-model --checkpoint and --model.
struct ModelChoice {
  std::string model_dir;    // the (base or merged) model to load
  std::string adapter_dir;  // the PEFT adapter to apply, or ""
  std::optional<ModelSource> source;  // what --checkpoint resolved to
};
ModelChoice model_choice_from_args(const ParsedArgs& a, const std::string& command);

// --adapter, --dtype and --device. (--model stays with each command: its help differs.)
ArgParser& add_decoder_options(ArgParser& p, const std::string& dtype_help = "model dtype");
// Loads --model with --dtype on --device and applies the PEFT adapter of --adapter when given.
Decoder load_decoder_from_args(const ParsedArgs& a);
// Loads the chosen model with --dtype on --device and applies the chosen adapter.
Decoder load_decoder_from_args(const ParsedArgs& a, const ModelChoice& choice);

// The prompt options of psy generate and psy chat: --tokenizer, --chat-template (default
// `chat_template`) and --system.
ArgParser& add_prompt_options(ArgParser& p, const std::string& chat_template);
struct PromptSettings {
  std::string tokenizer_path;           // --tokenizer, else the model folder
  std::optional<ChatFormat> chat_template;  // none: raw text after BOS
  std::string system;                   // "" = no system message
};
PromptSettings prompt_settings_from_args(const ParsedArgs& a, const std::string& model_dir);

struct SamplingDefaults {
  std::string max_new_tokens = "128", temperature = "0", top_k = "0", top_p = "1", repetition_penalty = "1";
};
// --max-new-tokens, --temperature (0 = greedy), --top-k, --top-p, --repetition-penalty, --seed.
ArgParser& add_sampling_options(ArgParser& p, const SamplingDefaults& defaults);
// The options above as GenerationOptions (eos/pad ids, stop strings and callbacks are the caller's).
GenerationOptions generation_options_from_args(const ParsedArgs& a);

}  // namespace psy::cli
