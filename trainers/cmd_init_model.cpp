// psy init-model: a randomly initialised Llama-shaped model (for the quickstart, tests and
// benchmarks), with the vocabulary of a tokenizer.
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/io/hf_config.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/model_size.h"
#include "libpsy/text/tokenizer.h"
#include "trainers/commands.h"

namespace fs = std::filesystem;

namespace psy::cli {

int cmd_init_model(const Args& args) {
  ArgParser p("psy init-model",
              "Write a Hugging Face model folder with random weights (normal(0, 0.02), norms 1) of the shape\n"
              "CONFIG describes (a Llama/Mistral config.json). With --tokenizer, vocab_size and the BOS/EOS/PAD\n"
              "ids come from the tokenizer and its files are copied next to the weights.");
  p.option("config", "FILE", "config.json of the shape (vocab_size may be left out with --tokenizer)")
      .option("tokenizer", "DIR", "tokenizer folder or tokenizer.model", "")
      .option("out", "DIR", "output folder (created)")
      .option("seed", "N", "seed of the weights", "66");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.get("config").empty() || a.get("out").empty()) throw Error("psy init-model: --config and --out are required");
  std::string text = read_text_file(a.get("config"));
  DecoderConfig config;
  std::vector<std::string> copy;
  if (!a.get("tokenizer").empty()) {
    Tokenizer tok = Tokenizer::load(a.get("tokenizer"));
    // Fill the vocabulary before validation (the config may leave vocab_size out).
    auto j = parse_json_text(text, a.get("config"));
    j["vocab_size"] = tok.vocab_size();
    if (tok.bos_id() >= 0) j["bos_token_id"] = tok.bos_id();
    if (tok.eos_id() >= 0) j["eos_token_id"] = tok.eos_id();
    if (tok.pad_id() >= 0) j["pad_token_id"] = tok.pad_id();
    text = j.dump();
    fs::path t(a.get("tokenizer"));
    fs::path dir = fs::is_directory(t) ? t : t.parent_path();
    for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"})
      if (fs::exists(dir / f)) copy.push_back((dir / f).string());
  }
  config = parse_decoder_config(text, a.get("config"));
  DecoderOptions opt;
  opt.dtype = parse_model_dtype(config.torch_dtype);
  // A 70B-shaped config must be refused here, not grow until the kernel kills the process.
  check_decoder_fits_host(config, static_cast<int>(c10::elementSize(opt.dtype)), true, a.get("config"));
  torch::manual_seed(static_cast<uint64_t>(a.get_long("seed")));
  Decoder decoder(config, opt);
  decoder->init_random_weights();
  save_decoder(*decoder, a.get("out"));
  for (const auto& f : copy)
    fs::copy_file(f, fs::path(a.get("out")) / fs::path(f).filename(), fs::copy_options::overwrite_existing);
  int64_t n = 0;
  for (auto& prm : decoder->parameters()) n += prm.numel();
  std::cout << "wrote " << a.get("out") << ": " << config.num_hidden_layers << " layers, hidden " << config.hidden_size
            << ", vocab " << config.vocab_size << ", " << n << " parameters\n";
  return 0;
}

}  // namespace psy::cli
