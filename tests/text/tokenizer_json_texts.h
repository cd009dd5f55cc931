// Texts the tokenizer.json tests encode: every turn text of the Psy-Insight files in ../shared
// (content, observation, reasoning) and an adversarial set written for these tests.
#pragma once
#include <string>
#include <vector>

namespace psy::test {

// Emoji with ZWJ sequences, combining marks, CJK and full-width punctuation, long digit and
// whitespace runs, tabs/newlines, control characters, texts that spell special tokens, ...
const std::vector<std::string>& adversarial_texts();
// Every non-empty content / observation / reasoning of both Psy-Insight v7 files; empty (after a
// SKIPPED line) when ../shared is absent.
std::vector<std::string> psy_insight_turn_texts();

}  // namespace psy::test
