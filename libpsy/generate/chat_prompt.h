// Turning text or a chat into the token ids generation starts from, and the ids that end it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libpsy/io/hf_config.h"
#include "libpsy/text/chat_format.h"
#include "libpsy/text/tokenizer.h"

namespace psy {

// With a template: the messages rendered by `tmpl` with an open assistant turn at the end
// (the generation prompt), encoded segment-wise. Without one (nullopt): BOS (when the
// tokenizer has one) followed by the messages' texts joined by blank lines.
std::vector<int64_t> generation_prompt_ids(const Tokenizer& tokenizer, const std::optional<ChatFormat>& tmpl,
                                           const std::vector<ChatMessage>& messages);

// The config's eos_token_id(s), the tokenizer's EOS, <|im_end|> for chatml, and for a model's own
// template the control token that closes an assistant message (<|im_end|>, <|eot_id|>, ...).
std::vector<int64_t> stop_token_ids(const DecoderConfig& config, const Tokenizer& tokenizer,
                                    const std::optional<ChatFormat>& tmpl);

// "none" -> nullopt; "auto" -> the template of the model folder `model_dir`; otherwise a
// built-in (resolve_chat_format).
std::optional<ChatFormat> parse_optional_chat_template(const std::string& name, const std::string& model_dir = "");

}  // namespace psy
