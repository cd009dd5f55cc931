// Text generation with a decoder: batched (left padding), KV cache, greedy or sampled,
// stopping on EOS ids, stop strings or max_new_tokens.
//
//   GenerationOptions o;  o.max_new_tokens = 64;  o.eos_ids = {2};
//   auto out = generate(*decoder, {{1, 55, 7}, {1, 9}}, o);   // out.rows[b].new_ids
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "libpsy/generate/sampling.h"
#include "libpsy/nn/decoder.h"

namespace psy {

struct GenerationOptions {
  int64_t max_new_tokens = 256;
  SamplingOptions sampling;
  uint64_t seed = 0;               // seeds the sampling generator (unused for greedy)
  std::vector<int64_t> eos_ids;    // stop a row when it produces one (included in new_ids)
  int64_t pad_id = 0;              // fills left padding (masked out)
  // Stop strings: a row stops once detokenize(new_ids) contains one; the text is cut before it.
  std::vector<std::string> stop_strings;
  std::function<std::string(const std::vector<int64_t>&)> detokenize;
  bool use_cache = true;           // false: recompute the whole sequence at every step (for tests)
  // Called after each step with (row, token) for rows still running (streaming output).
  std::function<void(int64_t, int64_t)> on_token;
  // Polled before each step; true ends generation early (e.g. Ctrl-C), finish_reason "interrupted".
  std::function<bool()> interrupted;
  // Continuous batching only: bytes of prompts' keys/values kept so that a prompt starting like an
  // earlier one prefills only the rest (prefix_store.h); 0 turns the reuse off.
  int64_t prefix_cache_bytes = int64_t{512} << 20;
};

struct GeneratedRow {
  std::vector<int64_t> new_ids;
  std::string text;            // detokenize(new_ids) cut at the stop string (empty without detokenize)
  std::string finish_reason;   // "eos", "stop_string", "length", "interrupted"
};

struct GenerationResult {
  std::vector<GeneratedRow> rows;
};

GenerationResult generate(DecoderImpl& decoder, const std::vector<std::vector<int64_t>>& prompts,
                          const GenerationOptions& options);

}  // namespace psy
