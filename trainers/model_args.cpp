#include "trainers/model_args.h"

#include <cmath>

#include "libpsy/core/error.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/nn/placement.h"

namespace psy::cli {

const char* const kCheckpointHelp =
    "a run folder (its final adapter/ or model/, else its newest complete checkpoint), a checkpoint "
    "(RUN/checkpoints/step-N, RUN/step-N, RUN/last, or RUN/best: the lowest eval_loss in log.jsonl), "
    "a PEFT adapter folder or a merged model folder";

ArgParser& add_model_source_options(ArgParser& p, const std::string& model_help) {
  return p.option("model", "DIR", model_help, "").option("checkpoint", "PATH", kCheckpointHelp, "");
}

ModelChoice model_choice_from_args(const ParsedArgs& a, const std::string& command) {
  ModelChoice c;
  c.model_dir = a.get("model");
  c.adapter_dir = a.get("adapter");
  if (a.get("checkpoint").empty()) {
    if (c.model_dir.empty()) throw Error(command + ": --model DIR or --checkpoint PATH is required");
    return c;
  }
  if (!c.adapter_dir.empty()) throw Error(command + ": give --checkpoint or --adapter, not both");
  c.source = resolve_model_source(a.get("checkpoint"));
  if (!c.source->is_adapter()) {
    if (!c.model_dir.empty())
      throw Error(command + ": --checkpoint " + a.get("checkpoint") + " is a whole model (" + c.source->model_dir +
                  "): give it or --model, not both");
    c.model_dir = c.source->model_dir;
    return c;
  }
  c.adapter_dir = c.source->adapter_dir;
  if (c.model_dir.empty()) c.model_dir = adapter_base_model(c.adapter_dir);
  if (c.model_dir.empty())
    throw Error(command + ": --checkpoint " + a.get("checkpoint") + ": the adapter's base model (" +
                c.adapter_dir + "/adapter_config.json, base_model_name_or_path) is not a local folder: give --model DIR");
  return c;
}

ArgParser& add_decoder_options(ArgParser& p, const std::string& dtype_help) {
  return p.option("adapter", "DIR", "PEFT LoRA adapter folder to apply (optional)", "")
      .option("dtype", "fp32|bf16|fp16", dtype_help, "fp32")
      .option("device", "DEVICE", "cpu, cuda or cuda:N", "cpu");
}

Decoder load_decoder_from_args(const ParsedArgs& a) {
  ModelChoice choice;
  choice.model_dir = a.get("model");
  choice.adapter_dir = a.get("adapter");
  return load_decoder_from_args(a, choice);
}

Decoder load_decoder_from_args(const ParsedArgs& a, const ModelChoice& choice) {
  DecoderOptions options;
  options.dtype = parse_model_dtype(a.get("dtype"));
  options.device = parse_device(a.get("device"), "--device");
  Decoder decoder = load_decoder(choice.model_dir, options);
  if (!choice.adapter_dir.empty()) load_peft_adapter(*decoder, choice.adapter_dir);
  return decoder;
}

ArgParser& add_prompt_options(ArgParser& p, const std::string& chat_template) {
  return p.option("tokenizer", "PATH", "tokenizer.json, tokenizer.model or their folder (default: the model folder)", "")
      .option("chat-template", "NAME",
              "auto (the model folder's own Jinja template), mistral, llama2, chatml, plain, or none (raw text after BOS)",
              chat_template)
      .option("system", "TEXT", "system message put before the conversation (chat templates only)", "");
}

PromptSettings prompt_settings_from_args(const ParsedArgs& a, const std::string& model_dir) {
  PromptSettings s;
  s.tokenizer_path = a.get("tokenizer").empty() ? model_dir : a.get("tokenizer");
  s.chat_template = parse_optional_chat_template(a.get("chat-template"), model_dir);
  s.system = a.get("system");
  return s;
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
