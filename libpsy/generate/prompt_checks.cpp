#include "libpsy/generate/prompt_checks.h"

#include <string>

#include "libpsy/core/error.h"

namespace psy {

void check_prompts(const DecoderConfig& config, const std::vector<std::vector<int64_t>>& prompts, int64_t max_new_tokens) {
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    const std::string which = "generate: prompt " + std::to_string(b);
    if (prompts[b].empty()) throw Error(which + " is empty (give at least BOS)");
    for (int64_t id : prompts[b]) {
      if (id < 0 || id >= config.vocab_size) {
        throw Error(which + " has token id " + std::to_string(id) + " outside the vocabulary [0, " +
                    std::to_string(config.vocab_size) + ")");
      }
    }
    const auto n = static_cast<int64_t>(prompts[b].size());
    if (n + max_new_tokens > config.max_position_embeddings) {
      throw Error(which + " has " + std::to_string(n) + " tokens; with max_new_tokens " + std::to_string(max_new_tokens) +
                  " it needs " + std::to_string(n + max_new_tokens) + " positions, more than the model's context of " +
                  std::to_string(config.max_position_embeddings) +
                  " positions (max_position_embeddings): shorten the prompt or lower max_new_tokens");
    }
  }
}

}  // namespace psy
