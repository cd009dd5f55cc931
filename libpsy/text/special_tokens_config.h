// The special tokens a Hugging Face model folder names outside the tokenizer itself:
// tokenizer_config.json, special_tokens_map.json and added_tokens.json (bos/eos/unk/pad, the
// additional special tokens, added_tokens_decoder), shared by the SentencePiece and the
// tokenizer.json back ends of psy::Tokenizer.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace psy {

struct ConfigTokens {
  std::string bos, eos, unk, pad;
  bool bos_named = false, eos_named = false;  // the key was present (possibly null)
  std::set<std::string> special;           // every token the config marks special
  std::map<std::string, int32_t> added;    // added tokens with explicit ids
  bool add_bos_token = true;               // tokenizer_config.json's add_bos_token (Llama's default)
  bool add_eos_token = false;
};

// A token as a Hugging Face config names it: "..." or {"content": "..."}; "" when absent or null.
std::string config_token_text(const nlohmann::json& j);

// Reads special_tokens_map.json, then tokenizer_config.json, then added_tokens.json from `dir`
// (each optional). Throws psy::Error naming the file on malformed content.
ConfigTokens read_config_tokens(const std::string& dir);

}  // namespace psy
