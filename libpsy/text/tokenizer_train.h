// Training a SentencePiece tokenizer with SentencePiece's own trainer, from Psy-Insight session
// files (every text field is used) or plain text files (one sentence per line).
#pragma once
#include <string>
#include <vector>

namespace psy {

struct TokenizerTrainOptions {
  std::vector<std::string> inputs;       // Psy-Insight JSON/JSONL files or plain text files
  int vocab_size = 8000;
  std::string model_type = "bpe";        // bpe (as Llama/Mistral) | unigram
  double character_coverage = 0.9995;    // < 1 leaves rare characters to byte fallback
  bool byte_fallback = true;             // unknown characters become <0xNN> byte pieces
  // Control pieces reserved after <unk> <s> </s> (ids 0-2). They are never produced from text;
  // psy's chat templates insert them by id. Defaults cover the chatml template.
  std::vector<std::string> control_symbols = {"<|im_start|>", "<|im_end|>"};
  bool with_pad = true;                   // reserve <pad> (id 3 when present)
};

struct TrainedTokenizer {
  std::string model_bytes;               // serialized SentencePiece ModelProto
  std::string config_json;               // tokenizer_config.json naming bos/eos/unk/pad
  size_t sentences = 0;                  // training sentences read
  size_t characters = 0;
};

// Collects the training sentences of one input: a Psy-Insight file (its first non-space
// character is '[' or '{' and it parses as sessions) gives every non-empty text field of every
// session and turn, split at line breaks; other files give their non-empty lines.
std::vector<std::string> training_sentences(const std::string& path);

// Deterministic for the same inputs and options (single-threaded, no sampling of sentences).
// Throws psy::Error on bad options or unreadable inputs.
TrainedTokenizer train_tokenizer(const TokenizerTrainOptions& options);

// Writes DIR/tokenizer.model and DIR/tokenizer_config.json (atomically; creates DIR).
void write_tokenizer(const TrainedTokenizer& tokenizer, const std::string& dir);

}  // namespace psy
