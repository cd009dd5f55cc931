// A tiny SentencePiece tokenizer trained at test time from the project's sample data
// (data/sample/*.json), so the tests ship no binary models. Trained once per test process.
#pragma once
#include <string>

#include "libpsy/text/tokenizer.h"

namespace psy::test {

// A folder holding tokenizer.model + tokenizer_config.json (vocab 512, byte fallback, control
// symbols <|im_start|> <|im_end|>), trained from the English sample file
// (Chinese text is then encoded mostly through byte fallback, which the tests rely on).
const std::string& tiny_tokenizer_dir();
const Tokenizer& tiny_tokenizer();

std::string sample_en_path();
std::string sample_zh_path();

}  // namespace psy::test
