#include "libpsy/text/tokenizer_json_loader.h"

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"

namespace psy {

namespace {

std::vector<AddedToken> parse_added_tokens(const nlohmann::json& j, const JsonSpot& at) {
  std::vector<AddedToken> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw_bad_value(at, "a list", j);
  for (size_t i = 0; i < j.size(); ++i) {
    const JsonSpot a = at.index(i);
    const auto& t = require_object(j[i], a);
    check_keys(t, a, {"id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"});
    AddedToken tok;
    const long id = get_int_or(t, "id", a, -1);
    if (id < 0 || id > 16000000) throw_bad_value(a.child("id"), "a token id 0..16000000", t.value("id", nlohmann::json()));
    tok.id = static_cast<int32_t>(id);
    tok.content = get_string(t, "content", a);
    if (tok.content.empty()) throw_bad_value(a.child("content"), "a non-empty string", t["content"]);
    if (find_invalid_utf8(tok.content) != std::string_view::npos) throw_bad_value(a.child("content"), "valid UTF-8", t["content"]);
    tok.special = get_bool_or(t, "special", a, false);
    tok.normalized = get_bool_or(t, "normalized", a, !tok.special);
    tok.lstrip = get_bool_or(t, "lstrip", a, false);
    tok.rstrip = get_bool_or(t, "rstrip", a, false);
    if (get_bool_or(t, "single_word", a, false)) throw_unsupported(a.child("single_word"), "true", "false");
    out.push_back(std::move(tok));
  }
  return out;
}

std::unique_ptr<BpeModel> parse_model(const nlohmann::json& j, const JsonSpot& at) {
  require_object(j, at);
  const std::string type = j.contains("type") ? get_string(j, "type", at) : std::string("BPE");
  if (type != "BPE") throw_unsupported(at.child("type"), "'" + type + "'", "BPE (WordPiece, WordLevel and Unigram are not)");
  check_keys(j, at, {"dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", "byte_fallback",
                     "ignore_merges", "vocab", "merges"});
  if (j.contains("dropout") && !j["dropout"].is_null()) {
    if (!j["dropout"].is_number() || j["dropout"].get<double>() != 0.0) throw_unsupported(at.child("dropout"), j["dropout"].dump(), "null (no BPE dropout)");
  }
  if (!get_string_or(j, "continuing_subword_prefix", at, "").empty())
    throw_unsupported(at.child("continuing_subword_prefix"), "a prefix", "null or \"\"");
  if (!get_string_or(j, "end_of_word_suffix", at, "").empty())
    throw_unsupported(at.child("end_of_word_suffix"), "a suffix", "null or \"\"");
  BpeOptions opt;
  opt.unk_token = get_string_or(j, "unk_token", at, "");
  opt.fuse_unk = get_bool_or(j, "fuse_unk", at, false);
  opt.byte_fallback = get_bool_or(j, "byte_fallback", at, false);
  opt.ignore_merges = get_bool_or(j, "ignore_merges", at, false);

  const JsonSpot vocab_at = at.child("vocab");
  if (!j.contains("vocab") || !j["vocab"].is_object()) throw_bad_value(vocab_at, "an object token -> id", j.value("vocab", nlohmann::json()));
  std::vector<std::pair<std::string, int32_t>> vocab;
  vocab.reserve(j["vocab"].size());
  for (auto it = j["vocab"].begin(); it != j["vocab"].end(); ++it) {
    if (!it.value().is_number_integer()) throw_bad_value(vocab_at.child(it.key()), "an integer id", it.value());
    const long id = it.value().get<long>();
    if (id < 0 || id > 16000000) throw_bad_value(vocab_at.child(it.key()), "an id 0..16000000", it.value());
    vocab.emplace_back(it.key(), static_cast<int32_t>(id));
  }
  const JsonSpot merges_at = at.child("merges");
  std::vector<std::pair<std::string, std::string>> merges;
  if (j.contains("merges") && !j["merges"].is_null()) {
    if (!j["merges"].is_array()) throw_bad_value(merges_at, "a list", j["merges"]);
    merges.reserve(j["merges"].size());
    for (size_t i = 0; i < j["merges"].size(); ++i) {
      const auto& m = j["merges"][i];
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
          throw_bad_value(merges_at.index(i), "\"a b\" (two tokens and one space)", m);
        merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        throw_bad_value(merges_at.index(i), "\"a b\" or [\"a\", \"b\"]", m);
      }
    }
  }
  return std::make_unique<BpeModel>(std::move(vocab), merges, opt, at.file, at.key);
}

}  // namespace

TokenizerJsonParts parse_tokenizer_json_parts(const std::string& text, const std::string& name) {
  const nlohmann::json j = parse_json_text(text, name);
  const JsonSpot top{name, ""};
  if (!j.is_object()) throw_bad_value(top, "a JSON object", j);
  check_keys(j, top, {"version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "model",
                      "post_processor", "decoder"});
  if (j.contains("truncation") && !j["truncation"].is_null())
    throw_unsupported(top.child("truncation"), "a truncation setting", "null (psy never truncates silently)");
  if (j.contains("padding") && !j["padding"].is_null())
    throw_unsupported(top.child("padding"), "a padding setting", "null");
  if (!j.contains("model")) throw Error(name + ": key 'model': missing");
  TokenizerJsonParts parts;
  parts.name = name;
  parts.added = parse_added_tokens(j.value("added_tokens", nlohmann::json()), top.child("added_tokens"));
  parts.normalizer = parse_normalizer(j.value("normalizer", nlohmann::json()), top.child("normalizer"));
  parts.pre_tokenizer = parse_pre_tokenizer(j.value("pre_tokenizer", nlohmann::json()), top.child("pre_tokenizer"));
  parts.model = parse_model(j["model"], top.child("model"));
  parts.post_processor = parse_post_processor(j.value("post_processor", nlohmann::json()), top.child("post_processor"));
  parts.decoder = parse_decoder(j.value("decoder", nlohmann::json()), top.child("decoder"));
  const int32_t limit = std::max<int32_t>(parts.model->max_id() + 1, 0);
  int32_t max_added = -1;
  for (const auto& t : parts.added) max_added = std::max(max_added, t.id);
  const int32_t size = std::max(limit, max_added + 1);
  for (int32_t id : parts.post_processor.prefix)
    if (id < 0 || id >= size) throw_bad_value(top.child("post_processor"), "token ids inside the vocabulary", id);
  for (int32_t id : parts.post_processor.suffix)
    if (id < 0 || id >= size) throw_bad_value(top.child("post_processor"), "token ids inside the vocabulary", id);
  return parts;
}

std::shared_ptr<const TokenizerJson> parse_tokenizer_json(const std::string& text, const std::string& name) {
  return std::make_shared<const TokenizerJson>(parse_tokenizer_json_parts(text, name));
}

std::shared_ptr<const TokenizerJson> load_tokenizer_json(const std::string& path) {
  return parse_tokenizer_json(read_text_file(path), path);
}

}  // namespace psy
