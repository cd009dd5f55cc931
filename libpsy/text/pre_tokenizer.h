// The "pre_tokenizer" of a tokenizer.json: Split (string or regex pattern, every split behaviour,
// invert), ByteLevel (add_prefix_space, use_regex with GPT-2's pattern), Metaspace (replacement,
// prepend_scheme always/first/never, split), Digits, and Sequence, run split by split as Hugging
// Face tokenizers does. ByteLevel's byte alphabet itself is applied by the BPE model
// (PreTokenizer::byte_level says so), which is why ByteLevel must come last.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/text/split_regex.h"
#include "libpsy/text/tokenizer_json_fields.h"

namespace psy {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel, Metaspace, Digits } kind = Kind::Split;
  std::shared_ptr<const SplitRegex> regex;  // Split with a regex, ByteLevel with use_regex
  std::string literal;                      // Split with a string pattern
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  bool add_prefix_space = false;            // ByteLevel
  std::string replacement;                  // Metaspace
  enum class Prepend { Always, First, Never } prepend = Prepend::Always;  // Metaspace
  bool split = true;                        // Metaspace
  bool individual_digits = false;           // Digits
};

struct PreTokenizer {
  std::vector<PreTokenizerStep> steps;
  bool byte_level = false;  // a ByteLevel step: the BPE model maps bytes to its alphabet
  // True when some step adds a prefix (Metaspace prepend or ByteLevel add_prefix_space).
  bool adds_prefix() const;
  // The Metaspace replacement character ("" when there is no Metaspace step).
  std::string metaspace_replacement() const;
};

PreTokenizer parse_pre_tokenizer(const nlohmann::json& j, const JsonSpot& at);

// Splits one normalized span. at_origin: the span starts at offset 0 of the input (Metaspace's
// "first" scheme prepends only there). allow_prefix = false: no prefix for the piece at the start
// of this span (text that continues a chunk).
void pre_tokenize(const PreTokenizer& p, std::string_view text, bool at_origin, bool allow_prefix,
                  std::vector<std::string>& pieces);

// The split behaviours over a list of (begin, end, is_match) ranges covering a text: the pieces'
// byte ranges, empty ones dropped.
std::vector<std::pair<size_t, size_t>> apply_split_behavior(const std::vector<std::pair<size_t, size_t>>& matches,
                                                            size_t length, SplitBehavior behavior, bool invert);

}  // namespace psy
