// Command-line options shared by the subcommands that load a decoder (psy generate, chat, logits)
// and sample from it (generate, chat): each option, its help and its parsing written once.
#pragma once
#include <string>

#include "libpsy/core/cli_args.h"
#include "libpsy/generate/generator.h"
#include "libpsy/nn/decoder.h"

namespace psy::cli {

// --adapter, --dtype and --device. (--model stays with each command: its help differs.)
ArgParser& add_decoder_options(ArgParser& p, const std::string& dtype_help = "model dtype");
// Loads --model with --dtype on --device and applies the PEFT adapter of --adapter when given.
Decoder load_decoder_from_args(const ParsedArgs& a);

struct SamplingDefaults {
  std::string max_new_tokens = "128", temperature = "0", top_k = "0", top_p = "1", repetition_penalty = "1";
};
// --max-new-tokens, --temperature (0 = greedy), --top-k, --top-p, --repetition-penalty, --seed.
ArgParser& add_sampling_options(ArgParser& p, const SamplingDefaults& defaults);
// The options above as GenerationOptions (eos/pad ids, stop strings and callbacks are the caller's).
GenerationOptions generation_options_from_args(const ParsedArgs& a);

}  // namespace psy::cli
