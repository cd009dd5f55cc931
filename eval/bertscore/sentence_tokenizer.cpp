#include "eval/bertscore/sentence_tokenizer.h"

#include <nlohmann/json.hpp>

#include "eval/bertscore/unicode_classes.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace psy::eval {

namespace {

nlohmann::json read_json_if_present(const std::string& path) {
  if (!path_exists(path)) return nlohmann::json::object();
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw Error(ErrorLocation{path, 0, 0, "", "", ""}, expected_found("a JSON object", j.type_name()));
  return j;
}

// A special token named `key` in special_tokens_map.json or tokenizer_config.json (a string or
// an AddedToken object with "content"), else `fallback`.
std::string special_token(const nlohmann::json& map, const nlohmann::json& config, const std::string& key,
                          const std::string& fallback) {
  for (const auto* j : {&map, &config}) {
    const auto it = j->find(key);
    if (it == j->end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  }
  return fallback;
}

}  // namespace

SentenceTokenizer SentenceTokenizer::load(const std::string& model_dir, size_t fallback_max_length) {
  const std::string config_path = model_dir + "/tokenizer_config.json";
  const nlohmann::json config = read_json_if_present(config_path);
  const nlohmann::json map = read_json_if_present(model_dir + "/special_tokens_map.json");

  SentenceTokenizer tok;
  const bool has_bpe = path_exists(model_dir + "/vocab.json") && path_exists(model_dir + "/merges.txt");
  const bool has_wordpiece = path_exists(model_dir + "/vocab.txt");
  std::string cls, sep, pad, unk;
  if (has_bpe) {
    tok.kind_ = TokenizerKind::ByteLevelBpe;
    cls = special_token(map, config, "cls_token", "<s>");
    sep = special_token(map, config, "sep_token", "</s>");
    pad = special_token(map, config, "pad_token", "<pad>");
    unk = special_token(map, config, "unk_token", "<unk>");
    tok.bpe_ = std::make_shared<ByteLevelBpe>(model_dir + "/vocab.json", model_dir + "/merges.txt", unk);
  } else if (has_wordpiece) {
    tok.kind_ = TokenizerKind::WordPiece;
    cls = special_token(map, config, "cls_token", "[CLS]");
    sep = special_token(map, config, "sep_token", "[SEP]");
    pad = special_token(map, config, "pad_token", "[PAD]");
    unk = special_token(map, config, "unk_token", "[UNK]");
    BasicTokenizerOptions options;
    if (config.contains("do_lower_case") && config["do_lower_case"].is_boolean()) options.do_lower_case = config["do_lower_case"].get<bool>();
    if (config.contains("tokenize_chinese_chars") && config["tokenize_chinese_chars"].is_boolean())
      options.tokenize_chinese_chars = config["tokenize_chinese_chars"].get<bool>();
    if (config.contains("strip_accents") && config["strip_accents"].is_boolean()) options.strip_accents = config["strip_accents"].get<bool>();
    tok.wordpiece_ = std::make_shared<WordPieceTokenizer>(model_dir + "/vocab.txt", options, unk);
  } else {
    throw Error(ErrorLocation{model_dir, 0, 0, "", "", ""},
                expected_found("a tokenizer: vocab.json + merges.txt (RoBERTa) or vocab.txt (BERT)", "neither"));
  }
  auto id_of = [&](const std::string& token, const char* role) {
    const int64_t id = tok.bpe_ ? tok.bpe_->token_to_id(token) : tok.wordpiece_->token_to_id(token);
    if (id < 0) throw Error(ErrorLocation{model_dir, 0, 0, "", "", ""}, std::string("the ") + role + " token '" + token + "' is not in the vocabulary");
    return id;
  };
  tok.cls_id_ = id_of(cls, "cls");
  tok.sep_id_ = id_of(sep, "sep");
  tok.pad_id_ = id_of(pad, "pad");

  tok.model_max_length_ = fallback_max_length;
  const auto it = config.find("model_max_length");
  if (it != config.end() && it->is_number() && it->get<double>() < 1e9) tok.model_max_length_ = static_cast<size_t>(it->get<double>());
  if (tok.model_max_length_ < 2)
    throw Error(ErrorLocation{config_path, 0, 0, "", "", "model_max_length"}, expected_found("at least 2", std::to_string(tok.model_max_length_)));
  return tok;
}

std::vector<std::string> SentenceTokenizer::tokenize(std::string_view text) const {
  const std::string stripped = unicode::python_strip(std::string(text));
  if (stripped.empty()) return {};
  // RoBERTa's add_prefix_space=True: the stripped text never starts with a space, so one is added.
  if (bpe_) return bpe_->tokenize(" " + stripped);
  return wordpiece_->tokenize(stripped);
}

EncodedSentence SentenceTokenizer::sent_encode(std::string_view text) const {
  EncodedSentence out;
  const std::string stripped = unicode::python_strip(std::string(text));
  std::vector<int64_t> body;
  if (!stripped.empty()) body = bpe_ ? bpe_->encode(" " + stripped) : wordpiece_->encode(stripped);
  const size_t limit = model_max_length_ - 2;
  if (body.size() > limit) {
    body.resize(limit);
    out.truncated = true;
  }
  out.ids.reserve(body.size() + 2);
  out.ids.push_back(cls_id_);
  out.ids.insert(out.ids.end(), body.begin(), body.end());
  out.ids.push_back(sep_id_);
  return out;
}

}  // namespace psy::eval
