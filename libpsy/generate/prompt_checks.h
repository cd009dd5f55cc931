// What generation refuses before it starts, in one line each: an empty prompt, a token id outside
// the model's vocabulary, a prompt that with max_new_tokens would run past the model's context.
#pragma once
#include <cstdint>
#include <vector>

#include "libpsy/io/hf_config.h"

namespace psy {

// Throws psy::Error naming the prompt (its index) and what was expected.
void check_prompts(const DecoderConfig& config, const std::vector<std::vector<int64_t>>& prompts, int64_t max_new_tokens);

}  // namespace psy
