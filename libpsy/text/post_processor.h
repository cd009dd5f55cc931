// The "post_processor" of a tokenizer.json, for one sequence: the special tokens that
// `tokenizer(text)` puts around the ids. TemplateProcessing ("single"), RobertaProcessing,
// BertProcessing, ByteLevel (ids unchanged) and Sequence of these.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libpsy/text/tokenizer_json_fields.h"

namespace psy {

struct PostProcessor {
  std::vector<int32_t> prefix;  // ids before the text's ids
  std::vector<int32_t> suffix;  // ids after them
};

PostProcessor parse_post_processor(const nlohmann::json& j, const JsonSpot& at);

}  // namespace psy
