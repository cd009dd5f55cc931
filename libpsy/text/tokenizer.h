// A SentencePiece tokenizer (the `tokenizer.model` that Mistral and Llama ship, or one trained by
// `psy tokenizer train`) with the special tokens a model folder's tokenizer_config.json /
// special_tokens_map.json name.
//
// How text and control tokens meet (read this before building sequences):
//  * Control tokens (BOS, EOS, PAD, <|im_start|>, ...) are only ever inserted BY ID. encode()
//    never produces them from text: SentencePiece never extracts CONTROL pieces from text, and
//    any user-defined piece that is also a named special token is turned into a CONTROL piece
//    when the model is loaded. A client who types "</s>" or "<|im_start|>" gets ordinary pieces.
//  * A sequence is a run of "chunks": maximal spans of text tokens between control tokens. Like
//    Hugging Face's (legacy) Llama/Mistral tokenizers and mistral-common, a model whose
//    normalizer adds a dummy prefix gets one "▁" at the start of every chunk, i.e. after BOS and
//    after every control token: encode(text, /*chunk_start=*/true). Text that continues a chunk
//    is encoded with chunk_start = false (no dummy prefix).
//  * decode() mirrors this exactly: it drops that one dummy space at the start of each chunk and
//    renders control tokens as their piece text ("<s>") unless asked to skip them. So for a
//    sequence built from segments (control ids and separately encoded texts),
//    decode(ids) == the concatenation of the segment texts, for models whose normalizer is the
//    identity (Llama, Mistral, and those `psy tokenizer train` writes). The loader always turns
//    off SentencePiece's whitespace collapsing (remove_extra_whitespaces) so that text survives.
//  * Text is encoded per segment, not as one string: token boundaries always fall on segment
//    boundaries, which is what per-segment loss weights need. Encoding the whole rendered string
//    at once (as apply_chat_template + tokenizer() would) can merge pieces across a boundary in
//    rare cases; training and evaluation in psy both use segment-wise encoding, so they agree.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace psy {

class Tokenizer {
 public:
  // Loads `path`: a tokenizer.model file, or a folder holding tokenizer.model and optionally
  // tokenizer_config.json / special_tokens_map.json. Throws psy::Error naming the path.
  static Tokenizer load(const std::string& path);
  // From the bytes of a serialized SentencePiece model; `config_dir` ("" = none) is searched
  // for tokenizer_config.json / special_tokens_map.json.
  static Tokenizer from_serialized(const std::string& model_bytes, const std::string& name,
                                   const std::string& config_dir = "");

  // Token ids of `text` (no BOS/EOS). chunk_start: the text begins a chunk (start of the
  // sequence or right after a control token), so the model's dummy prefix applies.
  std::vector<int32_t> encode(std::string_view text, bool chunk_start = true) const;
  void encode_append(std::string_view text, bool chunk_start, std::vector<int32_t>& out) const;

  // Text of `ids`. render_special: control and added special tokens appear as their text
  // ("<s>", "</s>", "<|im_start|>"); otherwise they are left out.
  std::string decode(const std::vector<int32_t>& ids, bool render_special = true) const;

  int vocab_size() const;  // SentencePiece pieces plus added tokens beyond them
  std::string id_to_piece(int32_t id) const;
  // Id of a piece or added token, or -1.
  int32_t piece_to_id(const std::string& piece) const;
  // Id of a special (control) token by its text, e.g. "<|im_start|>", or -1 when the vocabulary
  // has no such control token. Ordinary text pieces are not returned.
  int32_t special_id(const std::string& token) const;
  bool is_special(int32_t id) const;  // control pieces and added special tokens
  bool is_byte(int32_t id) const;

  int32_t bos_id() const;  // -1 when the model has none
  int32_t eos_id() const;
  int32_t unk_id() const;
  int32_t pad_id() const;  // -1 when neither the model nor the config names one
  std::string bos_text() const;
  std::string eos_text() const;

  // True when encoding is exactly the concatenation of the encodings of its "words" (a word
  // starts at a space that follows a non-space): identity normaliser and no piece with "▁" after
  // a non-"▁" character (true for Llama, Mistral and psy-trained models). SegmentEncoder then
  // caches per word, which makes bulk encoding fast.
  bool splits_at_words() const;

  bool adds_dummy_prefix() const;
  bool has_byte_fallback() const;
  const std::string& name() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace psy
