#include "libpsy/text/tokenizer_train.h"

#include <unordered_map>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/text/spm_library.h"

namespace psy {

namespace {

void add_lines(const std::string& text, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool blank = line.find_first_not_of(" \t") == std::string::npos;
    if (!blank) out.push_back(std::move(line));
    start = end + 1;
  }
}

}  // namespace

std::vector<std::string> training_sentences(const std::string& path) {
  std::string text = read_text_file(path);
  std::vector<std::string> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  bool looks_json = first != std::string::npos && (text[first] == '[' || text[first] == '{');
  if (looks_json) {
    LoadedSessions loaded;
    bool parsed = true;
    try {
      loaded = parse_sessions(text, path, OnError::Skip);
    } catch (const Error&) {
      parsed = false;
    }
    if (parsed && !loaded.sessions.empty()) {
      for (const auto& s : loaded.sessions) {
        for (const std::string* f : {&s.theme, &s.psychotherapy, &s.topic, &s.stage, &s.guide, &s.background,
                                     &s.reasoning, &s.summary})
          add_lines(*f, out);
        for (const auto& t : s.turns) {
          add_lines(t.content, out);
          add_lines(t.observation, out);
          add_lines(t.reasoning, out);
          for (const auto& l : t.emotion_labels) add_lines(l, out);
          for (const auto& l : t.strategies) add_lines(l, out);
          for (const auto& l : t.labels) add_lines(l, out);
        }
      }
      return out;
    }
  }
  if (find_invalid_utf8(text) != std::string_view::npos) throw Error(path + ": not valid UTF-8 text");
  add_lines(text, out);
  return out;
}

TrainedTokenizer train_tokenizer(const TokenizerTrainOptions& o) {
  if (o.inputs.empty()) throw Error("psy tokenizer train: give at least one --input file");
  if (o.vocab_size < 16) throw Error("psy tokenizer train: --vocab-size must be at least 16, found " + std::to_string(o.vocab_size));
  if (o.model_type != "bpe" && o.model_type != "unigram")
    throw Error("psy tokenizer train: " + expected_found("model type bpe or unigram", "'" + o.model_type + "'"));
  std::vector<std::string> sentences;
  TrainedTokenizer result;
  for (const auto& path : o.inputs) {
    auto s = training_sentences(path);
    sentences.insert(sentences.end(), std::make_move_iterator(s.begin()), std::make_move_iterator(s.end()));
  }
  if (sentences.empty()) throw Error("psy tokenizer train: the inputs hold no text");
  for (const auto& s : sentences) result.characters += utf8_length(s);
  result.sentences = sentences.size();

  std::string controls;
  for (const auto& c : o.control_symbols) controls += (controls.empty() ? "" : ",") + c;
  std::unordered_map<std::string, std::string> args = {
      {"model_prefix", ""},
      {"vocab_size", std::to_string(o.vocab_size)},
      {"model_type", o.model_type},
      {"character_coverage", std::to_string(o.character_coverage)},
      {"byte_fallback", o.byte_fallback ? "true" : "false"},
      {"normalization_rule_name", "identity"},  // keeps decode(encode(text)) == text
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "true"},
      {"split_digits", "true"},
      {"hard_vocab_limit", "false"},            // tiny corpora: fewer pieces rather than failure
      {"num_threads", "1"},                     // deterministic
      {"input_sentence_size", "0"},             // use every sentence, no sampling
      {"shuffle_input_sentence", "false"},
      {"max_sentence_length", "65536"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", o.with_pad ? "3" : "-1"},
      {"unk_surface", " \xE2\x81\x87 "},
  };
  if (!controls.empty()) args["control_symbols"] = controls;
  std::string error;
  if (!spm_api().train(args, sentences, /*quiet=*/true, result.model_bytes, error)) {
    throw Error("psy tokenizer train: SentencePiece failed: " + error, kExitFailure);
  }

  nlohmann::ordered_json cfg;
  cfg["tokenizer_class"] = "LlamaTokenizer";
  cfg["bos_token"] = "<s>";
  cfg["eos_token"] = "</s>";
  cfg["unk_token"] = "<unk>";
  cfg["pad_token"] = o.with_pad ? nlohmann::ordered_json("<pad>") : nlohmann::ordered_json(nullptr);
  cfg["additional_special_tokens"] = o.control_symbols;
  cfg["add_bos_token"] = true;
  cfg["add_eos_token"] = false;
  cfg["legacy"] = true;
  cfg["trained_by"] = "psy tokenizer train";
  result.config_json = cfg.dump(2) + "\n";
  return result;
}

void write_tokenizer(const TrainedTokenizer& t, const std::string& dir) {
  make_dirs(dir);
  write_file_atomic(dir + "/tokenizer.model", t.model_bytes);
  write_file_atomic(dir + "/tokenizer_config.json", t.config_json);
}

}  // namespace psy
