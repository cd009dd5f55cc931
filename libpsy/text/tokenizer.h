// A model's tokenizer: Hugging Face's tokenizer.json (byte-level BPE of Llama-3, Qwen2/3, GLM-4,
// SmolLM2; BPE with byte fallback of Mistral/Llama-2; see tokenizer_json.h) or a SentencePiece
// `tokenizer.model` (Mistral and Llama ship one; `psy tokenizer train` writes one), with the
// special tokens a model folder's tokenizer_config.json / special_tokens_map.json name. A folder
// holding both is read through tokenizer.json, as Hugging Face's fast tokenizers do.
//
// How text and control tokens meet (read this before building sequences):
//  * Control tokens (BOS, EOS, PAD, <|im_start|>, ...) are only ever inserted BY ID. encode()
//    never produces them from text: SentencePiece never extracts CONTROL pieces from text, and
//    any user-defined piece that is also a named special token is turned into a CONTROL piece
//    when the model is loaded; tokenizer.json's special added tokens (and those the config names
//    special) are left as text, as tokenizers' encode_special_tokens does. A client who types
//    "</s>" or "<|im_start|>" gets ordinary pieces. Non-special added tokens are still matched.
//    encode_like_hf() is the one exception, for inspection and comparison only.
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
//    tokenizer.json: byte-level models without a normalizer always give the text back (with NFC,
//    Qwen's, the NFC form); Metaspace / "▁" models lose what Hugging Face loses too: a text that
//    begins a chunk with a space (Metaspace "first" adds no prefix then, and decode drops one
//    space) and a literal "▁" in the text (decoded as a space).
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
  // Loads `path`: a tokenizer.json or tokenizer.model file, or a folder holding either (and
  // optionally tokenizer_config.json / special_tokens_map.json). Throws psy::Error naming the
  // path; a tokenizer.json that psy cannot reproduce exactly fails with the key that is unsupported.
  static Tokenizer load(const std::string& path);
  // A tokenizer.json file; `config_dir` ("" = none) as for from_serialized.
  static Tokenizer from_tokenizer_json(const std::string& json_path, const std::string& config_dir = "");
  // The same from the file's text; `name` stands for the file in messages.
  static Tokenizer from_tokenizer_json_text(const std::string& text, const std::string& name,
                                            const std::string& config_dir = "");
  // From the bytes of a serialized SentencePiece model; `config_dir` ("" = none) is searched
  // for tokenizer_config.json / special_tokens_map.json.
  static Tokenizer from_serialized(const std::string& model_bytes, const std::string& name,
                                   const std::string& config_dir = "");

  // Token ids of `text` (no BOS/EOS). chunk_start: the text begins a chunk (start of the
  // sequence or right after a control token), so the model's dummy prefix applies.
  std::vector<int32_t> encode(std::string_view text, bool chunk_start = true) const;
  void encode_append(std::string_view text, bool chunk_start, std::vector<int32_t>& out) const;

  // What Hugging Face's `tokenizer(text)["input_ids"]` gives: added and special tokens spelled in
  // the text become their ids, then (add_special_tokens) the post-processor's BOS/EOS. Only for
  // `psy tokenize` and comparisons with the Python stack: NEVER for user text in a prompt.
  // SentencePiece models: special pieces split out, every text piece a chunk, BOS/EOS as
  // tokenizer_config.json's add_bos_token / add_eos_token say (default BOS only).
  std::vector<int32_t> encode_like_hf(std::string_view text, bool add_special_tokens = true) const;

  // Text of `ids`. render_special: control and added special tokens appear as their text
  // ("<s>", "</s>", "<|im_start|>"); otherwise they are left out.
  std::string decode(const std::vector<int32_t>& ids, bool render_special = true) const;

  int vocab_size() const;  // pieces plus added tokens beyond them (largest id + 1)
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
  // a non-"▁" character (true for Llama, Mistral and psy-trained SentencePiece models; false for
  // tokenizer.json, whose BPE caches per pre-token itself). SegmentEncoder then caches per word.
  bool splits_at_words() const;

  bool adds_dummy_prefix() const;
  bool has_byte_fallback() const;
  const std::string& name() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace psy
