// The "normalizer" of a tokenizer.json: NFC, NFD, NFKC, NFKD, Lowercase, Replace (string or regex),
// Prepend, Strip, and Sequence of these, applied in order as Hugging Face tokenizers does.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/text/split_regex.h"
#include "libpsy/text/tokenizer_json_fields.h"

namespace psy {

struct NormalizerStep {
  enum class Kind { NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Strip } kind = Kind::NFC;
  std::string pattern;                       // Replace: the literal to find
  std::shared_ptr<const SplitRegex> regex;   // Replace with {"Regex": ...}
  std::string content;                       // Replace: the replacement; Prepend: the prefix
  bool strip_left = false, strip_right = false;
};

struct Normalizer {
  std::vector<NormalizerStep> steps;
  bool empty() const { return steps.empty(); }
  // True when a Prepend step exists (the legacy Llama/Mistral dummy prefix "▁").
  bool prepends() const;
};

// Parses a "normalizer" value (null = none). Throws psy::Error naming the file and key.
Normalizer parse_normalizer(const nlohmann::json& j, const JsonSpot& at);

// Applies the normalizer. allow_prepend = false skips Prepend steps (text that continues a chunk).
std::string normalize_text(const Normalizer& n, std::string_view text, bool allow_prepend = true);

}  // namespace psy
