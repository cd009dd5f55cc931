#include "trainers/model_args.h"

#include <cmath>

#include "libpsy/core/error.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/nn/placement.h"

namespace psy::cli {

ArgParser& add_decoder_options(ArgParser& p, const std::string& dtype_help) {
  return p.option("adapter", "DIR", "PEFT LoRA adapter folder to apply (optional)", "")
      .option("dtype", "fp32|bf16|fp16", dtype_help, "fp32")
      .option("device", "DEVICE", "cpu, cuda or cuda:N", "cpu");
}

Decoder load_decoder_from_args(const ParsedArgs& a) {
  DecoderOptions options;
  options.dtype = parse_model_dtype(a.get("dtype"));
  options.device = parse_device(a.get("device"), "--device");
  Decoder decoder = load_decoder(a.get("model"), options);
  if (!a.get("adapter").empty()) load_peft_adapter(*decoder, a.get("adapter"));
  return decoder;
}

ArgParser& add_sampling_options(ArgParser& p, const SamplingDefaults& d) {
  return p.option("max-new-tokens", "N", "tokens to generate at most", d.max_new_tokens)
      .option("temperature", "T", "0 = greedy; > 0 samples", d.temperature)
      .option("top-k", "K", "sample among the K most likely tokens (0 = all)", d.top_k)
      .option("top-p", "P", "nucleus sampling mass (1 = off)", d.top_p)
      .option("repetition-penalty", "R", "penalty for tokens already present (1 = off)", d.repetition_penalty)
      .option("seed", "N", "sampling seed", "0");
}

namespace {

// The sampling options' ranges, as the recipe's eval section has them (NaN fails every test).
void check_sampling_args(const ParsedArgs& a) {
  auto bad = [](const std::string& option, const std::string& expected, const std::string& found) {
    throw Error("--" + option + ": " + expected_found(expected, found));
  };
  const long max_new = a.get_long("max-new-tokens");
  if (max_new < 0 || max_new > (1L << 22)) bad("max-new-tokens", "0 to 4194304", std::to_string(max_new));
  const double temperature = a.get_double("temperature");
  if (!(temperature >= 0 && std::isfinite(temperature)))
    bad("temperature", "a finite number >= 0 (0 = greedy)", a.get("temperature"));
  if (a.get_long("top-k") < 0) bad("top-k", "0 (all) or more", a.get("top-k"));
  const double top_p = a.get_double("top-p");
  if (!(top_p > 0 && top_p <= 1)) bad("top-p", "a number in (0, 1]", a.get("top-p"));
  const double penalty = a.get_double("repetition-penalty");
  if (!(penalty > 0 && std::isfinite(penalty))) bad("repetition-penalty", "a finite number > 0 (1 = off)", a.get("repetition-penalty"));
  if (a.get_long("seed") < 0) bad("seed", "an integer >= 0", a.get("seed"));
}

}  // namespace

GenerationOptions generation_options_from_args(const ParsedArgs& a) {
  check_sampling_args(a);
  GenerationOptions g;
  g.max_new_tokens = a.get_long("max-new-tokens");
  g.sampling.temperature = a.get_double("temperature");
  g.sampling.do_sample = g.sampling.temperature > 0;
  if (!g.sampling.do_sample) g.sampling.temperature = 1.0;
  g.sampling.top_k = a.get_long("top-k");
  g.sampling.top_p = a.get_double("top-p");
  g.sampling.repetition_penalty = a.get_double("repetition-penalty");
  g.seed = static_cast<uint64_t>(a.get_long("seed"));
  return g;
}

}  // namespace psy::cli
