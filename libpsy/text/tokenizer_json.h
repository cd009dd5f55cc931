// A Hugging Face tokenizer.json pipeline: added tokens, normalizer, pre-tokenizer, BPE model,
// post-processor and decoder, run the way the `tokenizers` library runs them. The psy::Tokenizer
// class wraps it (tokenizer.h holds the rules on control tokens and chunks); the loader
// (tokenizer_json_loader.h) builds it and refuses, with one line naming the file and key,
// anything it does not reproduce exactly.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "libpsy/text/added_tokens.h"
#include "libpsy/text/bpe_model.h"
#include "libpsy/text/normalizer.h"
#include "libpsy/text/post_processor.h"
#include "libpsy/text/pre_tokenizer.h"
#include "libpsy/text/token_decoder.h"

namespace psy {

struct TokenizerJsonParts {
  std::string name;  // the file, for messages
  std::vector<AddedToken> added;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  PostProcessor post_processor;
  TokenDecoder decoder;
};

class TokenizerJson {
 public:
  explicit TokenizerJson(TokenizerJsonParts parts);

  // Appends the ids of `text`, without the post-processor's tokens. match_special: special added
  // tokens spelled in the text become their ids (tokenizers' default); otherwise they stay text
  // (encode_special_tokens = true). Non-special added tokens are always matched. chunk_start =
  // false: no dummy prefix (Prepend / Metaspace / add_prefix_space) at the start of `text`.
  void encode(std::string_view text, bool match_special, bool chunk_start, std::vector<int32_t>& out) const;
  const PostProcessor& post_processor() const { return parts_.post_processor; }

  // Text of ids that contain no special token (one chunk), through the decoder.
  std::string decode_chunk(const std::vector<int32_t>& ids) const;

  int32_t vocab_size() const { return vocab_size_; }
  const std::string* id_to_token(int32_t id) const;   // model token or added token content
  int32_t token_to_id(const std::string& token) const;  // added tokens first; -1 when absent
  const AddedToken* added_token(int32_t id) const;     // nullptr when `id` is not an added token
  const std::vector<AddedToken>& added_tokens() const { return parts_.added; }
  bool is_byte_piece(int32_t id) const { return parts_.model->is_byte_piece(id); }
  int32_t unk_id() const { return parts_.model->unk_id(); }
  bool byte_fallback() const { return parts_.model->options().byte_fallback; }
  // A dummy prefix is added at the start of a chunk (legacy Prepend normalizer, Metaspace,
  // ByteLevel add_prefix_space).
  bool adds_dummy_prefix() const { return dummy_prefix_; }
  const std::string& name() const { return parts_.name; }

 private:
  void encode_normalized_span(std::string_view text, bool at_origin, bool allow_prefix, std::vector<int32_t>& out) const;

  TokenizerJsonParts parts_;
  AddedTokenMatcher raw_matcher_;         // added tokens with normalized = false
  AddedTokenMatcher normalized_matcher_;  // normalized = true, matched after normalization
  std::unordered_map<int32_t, size_t> added_by_id_;
  std::unordered_map<std::string, int32_t> added_by_content_;
  int32_t vocab_size_ = 0;
  bool dummy_prefix_ = false;
};

}  // namespace psy
