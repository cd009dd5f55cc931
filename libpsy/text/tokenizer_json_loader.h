// Reads a tokenizer.json into a TokenizerJson. Everything psy cannot reproduce exactly (another
// model type, pre-tokenizer, normalizer, decoder or post-processor, BPE dropout, subword
// prefixes, single_word added tokens, truncation or padding) fails here with one psy::Error line
// naming the file, the key and what is supported: never a silently different tokenization.
#pragma once
#include <memory>
#include <string>

#include "libpsy/text/tokenizer_json.h"

namespace psy {

std::shared_ptr<const TokenizerJson> load_tokenizer_json(const std::string& path);
// The same from the file's text; `name` stands for the file in messages.
std::shared_ptr<const TokenizerJson> parse_tokenizer_json(const std::string& text, const std::string& name);
// The parts, before they are put together (a caller may still mark added tokens special).
TokenizerJsonParts parse_tokenizer_json_parts(const std::string& text, const std::string& name);

}  // namespace psy
