// psy tokenizer: train a SentencePiece tokenizer; encode text with one (for inspection).
#include <iostream>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/text/tokenizer_train.h"
#include "trainers/commands.h"

namespace psy::cli {

namespace {

int tokenizer_train(const Args& args) {
  ArgParser p("psy tokenizer train",
              "Train a SentencePiece tokenizer (SentencePiece's own trainer; deterministic) and write\n"
              "DIR/tokenizer.model and DIR/tokenizer_config.json. Inputs are Psy-Insight JSON/JSONL files\n"
              "(every text field is used) or plain text files (one sentence per line). The model has\n"
              "<unk> <s> </s> <pad> at ids 0-3, control tokens <|im_start|> <|im_end|> (for the chatml\n"
              "template), byte fallback, and an identity normaliser so that decoding gives back the text.");
  p.multi_option("input", "FILE...", "training files")
      .option("vocab-size", "N", "vocabulary size (at least 256 byte pieces + characters + merges)", "8000")
      .option("out", "DIR", "output folder (created if missing)", "")
      .option("model-type", "bpe|unigram", "SentencePiece model type", "bpe")
      .option("character-coverage", "F", "share of characters kept as pieces (0.98-1); rarer ones use bytes",
              "0.9995")
      .flag("no-byte-fallback", "map unknown characters to <unk> instead of byte pieces");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.get("out").empty()) throw Error("psy tokenizer train: --out DIR is required");
  TokenizerTrainOptions o;
  o.inputs = a.list("input");
  o.vocab_size = static_cast<int>(a.get_long("vocab-size"));
  o.model_type = a.get("model-type");
  o.character_coverage = a.get_double("character-coverage");
  o.byte_fallback = !a.flag("no-byte-fallback");
  TrainedTokenizer t = train_tokenizer(o);
  write_tokenizer(t, a.get("out"));
  Tokenizer check = Tokenizer::load(a.get("out"));
  std::cout << "trained a " << o.model_type << " tokenizer with " << check.vocab_size() << " pieces from "
            << t.sentences << " sentences (" << t.characters << " characters) -> " << a.get("out") << "\n";
  return 0;
}

int tokenizer_encode(const Args& args) {
  ArgParser p("psy tokenizer encode", "Print the token ids and pieces of TEXT (one chunk, no BOS/EOS).");
  p.positional("TEXT", "text to encode")
      .option("tokenizer", "PATH", "tokenizer.model or a folder holding it", "");
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;
  if (a.get("tokenizer").empty()) throw Error("psy tokenizer encode: --tokenizer PATH is required");
  Tokenizer t = Tokenizer::load(a.get("tokenizer"));
  for (int32_t id : t.encode(a.get("TEXT"))) std::cout << id << "\t" << t.id_to_piece(id) << "\n";
  return 0;
}

}  // namespace

int cmd_tokenizer(const Args& args) {
  static const std::vector<Command> table = {
      {"train", "train a SentencePiece tokenizer from session or text files", tokenizer_train},
      {"encode", "show the tokens of a text", tokenizer_encode},
  };
  return dispatch("psy tokenizer", table, args);
}

}  // namespace psy::cli
