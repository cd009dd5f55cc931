// Sentence embeddings from a BERT-family encoder in the sentence-transformers layout, computed
// the way sentence-transformers computes them:
//
//   psy::eval::SentenceEncoder enc("models/all-MiniLM-L6-v2");
//   auto vectors = enc.encode({"I feel anxious", "..."});   // one float vector per text
//
// modules.json lists the modules: a Transformer (its folder, "" = the root), a Pooling module
// (its config.json: cls, mean, max or mean_sqrt_len tokens) and optionally Normalize (unit
// length). A folder without modules.json is read as a plain encoder with mean pooling and no
// normalisation. Texts are stripped, tokenised like bert_score's sent_encode (same tokenisers)
// and truncated to sentence_bert_config.json's max_seq_length (else the tokenizer's limit),
// keeping the final [SEP] / </s>. Other module types (Dense, ...) and non-BERT-family models
// are refused with one line naming the file and field.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace psy::eval {

enum class SentencePooling { Mean, Cls, Max, MeanSqrtLen };
const char* pooling_name(SentencePooling pooling);

// What modules.json and its module configs say. No LibTorch.
struct SentenceEncoderLayout {
  std::string dir;              // the folder given
  std::string transformer_dir;  // the Transformer module's folder
  SentencePooling pooling = SentencePooling::Mean;
  bool normalize = false;
  size_t max_seq_length = 0;    // 0 = the tokenizer's own limit
  bool has_modules_json = false;
};

// Reads the layout; throws psy::Error (exit 2) naming the file and field for a folder that is not
// a BERT-family sentence encoder (no config.json, model_type not bert/roberta/xlm-roberta/
// camembert, a module psy does not run, a pooling mode it does not know).
SentenceEncoderLayout read_sentence_encoder_layout(const std::string& dir);

// A 64-bit FNV-1a hash (16 hex digits) of every file that decides the embeddings: configs,
// tokenizer files and weights (*.safetensors) of the folder and its module folders.
std::string sentence_encoder_fingerprint(const SentenceEncoderLayout& layout);

class SentenceEncoder {
 public:
  // device: "cpu", "cuda", "cuda:N". batch_size: texts per forward pass.
  explicit SentenceEncoder(const std::string& dir, int64_t batch_size = 32, const std::string& device = "cpu");
  ~SentenceEncoder();
  SentenceEncoder(SentenceEncoder&&) noexcept;
  SentenceEncoder& operator=(SentenceEncoder&&) noexcept;

  // One embedding (float32, `dimension()` values) per text, in input order.
  std::vector<std::vector<float>> encode(const std::vector<std::string>& texts) const;

  const SentenceEncoderLayout& layout() const;
  int64_t dimension() const;
  size_t truncated() const;  // texts cut to max_seq_length so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace psy::eval
