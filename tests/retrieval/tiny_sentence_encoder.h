// A tiny BERT sentence encoder in the sentence-transformers layout, written at test time
// (config.json, vocab.txt of letters, deterministic weights, modules.json with mean pooling and
// Normalize), so the retrieval tests ship no binary model.
#pragma once
#include <string>

namespace psy::test {

// Writes the folder (created) and returns it.
std::string write_tiny_sentence_encoder(const std::string& dir);

}  // namespace psy::test
