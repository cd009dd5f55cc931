// Continuous batching: generates a completion for each of many prompts with at most `slots`
// sequences decoding together. When a sequence finishes, the next prompt takes its slot: its
// prefill runs alone (batch 1, lm_head on its last position only) and its keys/values join the
// shared cache, then it decodes with the others. A prompt that starts like a recent one prefills
// only the tokens after the shared start (prefix_store.h). Prompts are admitted in windows of `slots`
// prompts, longest first within a window, so rows that decode together have similar lengths while
// finished results can still be written in input order with little buffering (InputOrder below;
// a kill loses only finished results still waiting for an earlier prompt).
//
//   generate_continuous(*decoder, prompts, options, /*slots=*/8,
//                       [](std::size_t i) { return seed_for(i); },
//                       [&](std::size_t i, GeneratedRow row) { in_order.put(i, std::move(row)); });
//
// Each prompt gets the tokens it would get alone: greedy rows are independent of their batch
// (up to fp rounding of batched matmuls), and sampling draws from the prompt's own generator,
// seeded by seed_of(i).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "libpsy/generate/generator.h"

namespace psy {

// Called once per prompt as it finishes (in completion order), with the prompt's index.
using RowDone = std::function<void(std::size_t, GeneratedRow)>;

// What the prompts cost: tokens in the admitted prompts, and how many of them were not prefilled
// because an earlier prompt started the same way (GenerationOptions::prefix_cache_bytes).
struct ContinuousStats {
  int64_t prompt_tokens = 0;
  int64_t reused_prompt_tokens = 0;
  double prefill_seconds = 0;  // admissions: prefills and their first tokens
  double decode_seconds = 0;   // decode steps
  int64_t decode_steps = 0;    // forwards of one token per running row
  int64_t decode_rows = 0;     // running rows summed over the steps (occupancy = rows / (steps * slots))
};

// GenerationOptions as for generate(), except: `seed` is unused (seed_of gives each prompt's),
// on_token gets the prompt index, use_cache must be true, and `interrupted` stops admitting and
// finishes the rows in flight as "interrupted" (prompts never admitted are not reported). Throws psy::Error for an empty prompt, a token
// outside the vocabulary, or a prompt plus max_new_tokens longer than the model's context.
ContinuousStats generate_continuous(DecoderImpl& decoder, const std::vector<std::vector<int64_t>>& prompts,
                         const GenerationOptions& options, int64_t slots,
                         const std::function<uint64_t(std::size_t)>& seed_of, const RowDone& on_done);

// The order prompts are admitted in: windows of `window` prompts in input order, longest first
// within each window (stable for equal lengths).
std::vector<std::size_t> admission_order(const std::vector<std::vector<int64_t>>& prompts, std::size_t window);

// Releases results in input order: put(i, value) buffers out-of-order ones and calls `emit` for
// every result whose predecessors have all been emitted. `first` is the first index expected.
template <typename T>
class InputOrder {
 public:
  InputOrder(std::size_t first, std::function<void(std::size_t, T&)> emit) : next_(first), emit_(std::move(emit)) {}
  void put(std::size_t index, T value) {
    waiting_.emplace(index, std::move(value));
    for (auto it = waiting_.find(next_); it != waiting_.end(); it = waiting_.find(next_)) {
      emit_(next_, it->second);
      waiting_.erase(it);
      ++next_;
    }
  }
  std::size_t next() const { return next_; }
  std::size_t buffered() const { return waiting_.size(); }

 private:
  std::size_t next_;
  std::function<void(std::size_t, T&)> emit_;
  std::map<std::size_t, T> waiting_;
};

}  // namespace psy
