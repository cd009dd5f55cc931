#include "trainers/model_args.h"

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

GenerationOptions generation_options_from_args(const ParsedArgs& a) {
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
