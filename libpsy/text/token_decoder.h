// The "decoder" of a tokenizer.json: turns token strings back into text. ByteLevel, Metaspace,
// Replace (string pattern), ByteFallback, Fuse, Strip and Sequence, each with tokenizers'
// decode_chain semantics (token list in, token list out).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/text/tokenizer_json_fields.h"

namespace psy {

struct DecoderStep {
  enum class Kind { ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip } kind = Kind::Fuse;
  std::string pattern, content;  // Replace; Strip: content; Metaspace: content = replacement
  bool prepend = true;           // Metaspace: prepend_scheme != never (strip the first token's space)
  long start = 0, stop = 0;      // Strip
};

struct TokenDecoder {
  std::vector<DecoderStep> steps;
};

TokenDecoder parse_decoder(const nlohmann::json& j, const JsonSpot& at);

// Decodes the token strings of one chunk (no control tokens) to text.
std::string decode_tokens(const TokenDecoder& d, std::vector<std::string> tokens);

// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes one U+FFFD.
std::string utf8_lossy(const std::string& bytes);

}  // namespace psy
