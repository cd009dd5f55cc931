#include "libpsy/text/tokenizer.h"

#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"
#include "libpsy/text/sentencepiece_proto.h"
#include "libpsy/text/spm_library.h"

namespace psy {

namespace {

const std::string kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's escaped space

bool is_dir(const std::string& path) {
  // A folder exists and "path/." exists too.
  return path_exists(path) && path_exists(path + "/.");
}

// A token named in a HF config: "..." or {"content": "..."}; "" when absent or null.
std::string token_text(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

struct ConfigTokens {
  std::string bos, eos, unk, pad;
  std::set<std::string> special;           // every token the config marks special
  std::map<std::string, int32_t> added;    // added tokens with explicit ids
};

void read_config_file(const std::string& path, ConfigTokens& out) {
  if (!path_exists(path)) return;
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw Error(path + ": " + expected_found("a JSON object", j.type_name()));
  auto take = [&](const char* key, std::string& slot) {
    if (!j.contains(key)) return;
    std::string t = token_text(j[key]);
    if (!t.empty()) {
      slot = t;
      out.special.insert(t);
    }
  };
  take("bos_token", out.bos);
  take("eos_token", out.eos);
  take("unk_token", out.unk);
  take("pad_token", out.pad);
  if (j.contains("additional_special_tokens") && j["additional_special_tokens"].is_array()) {
    for (const auto& t : j["additional_special_tokens"]) {
      std::string s = token_text(t);
      if (!s.empty()) out.special.insert(s);
    }
  }
  if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object()) {
    for (auto it = j["added_tokens_decoder"].begin(); it != j["added_tokens_decoder"].end(); ++it) {
      std::string content = token_text(it.value());
      if (content.empty()) continue;
      try {
        out.added[content] = static_cast<int32_t>(std::stol(it.key()));
      } catch (const std::exception&) {
        throw Error(path + ": added_tokens_decoder key '" + it.key() + "' is not a token id");
      }
      if (it.value().is_object() && it.value().value("special", false)) out.special.insert(content);
    }
  }
}

void read_added_tokens_json(const std::string& path, ConfigTokens& out) {
  if (!path_exists(path)) return;
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_number_integer()) {
      out.added[it.key()] = it.value().get<int32_t>();
      out.special.insert(it.key());
    }
  }
}

}  // namespace

// The loaded SentencePiece processor (in the isolated module), freed with the tokenizer.
class SpmHandle {
 public:
  explicit SpmHandle(void* h) : h_(h) {}
  ~SpmHandle() {
    if (h_) spm_api().free(h_);
  }
  SpmHandle(const SpmHandle&) = delete;
  SpmHandle& operator=(const SpmHandle&) = delete;
  void* get() const { return h_; }

 private:
  void* h_;
};

struct Tokenizer::Impl {
  std::unique_ptr<SpmHandle> sp;
  std::string name;
  int32_t pieces = 0;                      // SentencePiece vocabulary size
  std::map<int32_t, std::string> added;    // added special tokens with ids >= pieces
  std::map<std::string, int32_t> added_by_text;
  int32_t bos = -1, eos = -1, unk = -1, pad = -1;
  bool dummy_prefix = true;
  bool byte_fallback = false;
  bool word_split = false;
  std::vector<std::string> piece_text;     // pieces with "▁" kept, for decode
  std::vector<uint8_t> kind;               // 0 normal, 1 control, 2 unknown, 3 byte
  std::vector<uint8_t> byte_value;

  int32_t lookup(const std::string& piece) const {
    auto a = added_by_text.find(piece);
    if (a != added_by_text.end()) return a->second;
    int id = spm_api().piece_to_id(sp->get(), &piece);
    if (id >= 0 && id < pieces && piece_text[static_cast<size_t>(id)] == piece) return id;
    return -1;
  }
};

Tokenizer Tokenizer::load(const std::string& path) {
  std::string model_path = path;
  std::string config_dir;
  if (is_dir(path)) {
    model_path = path + "/tokenizer.model";
    config_dir = path;
    if (!path_exists(model_path))
      throw Error(path + ": no tokenizer.model in this folder (psy reads SentencePiece models; "
                  "train one with `psy tokenizer train`)");
  } else {
    auto slash = path.find_last_of('/');
    config_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  }
  if (!path_exists(model_path))
    throw Error(model_path + ": no such tokenizer (give a tokenizer.model file or a folder holding one; "
                "`psy tokenizer train` makes one)");
  return from_serialized(read_text_file(model_path), model_path, config_dir);
}

Tokenizer Tokenizer::from_serialized(const std::string& model_bytes, const std::string& name,
                                     const std::string& config_dir) {
  ConfigTokens cfg;
  if (!config_dir.empty()) {
    read_config_file(config_dir + "/special_tokens_map.json", cfg);
    read_config_file(config_dir + "/tokenizer_config.json", cfg);
    read_added_tokens_json(config_dir + "/added_tokens.json", cfg);
  }
  // Chat-format tokens are special by convention even when no config names them.
  std::set<std::string> make_control = cfg.special;
  make_control.insert("<|im_start|>");
  make_control.insert("<|im_end|>");

  SentencePieceModelInfo info;
  std::string patched;
  try {
    patched = patch_sentencepiece_model(model_bytes, make_control, info);
  } catch (const Error& e) {
    throw Error(name + ": not a SentencePiece model (" + e.what() + ")");
  }

  auto impl = std::make_shared<Impl>();
  impl->name = name;
  const SpmApi& spm = spm_api();
  std::string load_error;
  void* handle = spm.load(&patched, &load_error);
  if (!handle) throw Error(name + ": cannot load SentencePiece model: " + load_error);
  impl->sp = std::make_unique<SpmHandle>(handle);
  impl->dummy_prefix = info.add_dummy_prefix;
  impl->pieces = spm.size(handle);
  impl->piece_text.resize(static_cast<size_t>(impl->pieces));
  impl->kind.resize(static_cast<size_t>(impl->pieces));
  impl->byte_value.resize(static_cast<size_t>(impl->pieces));
  for (int i = 0; i < impl->pieces; ++i) {
    const size_t k = static_cast<size_t>(i);
    impl->piece_text[k] = *spm.id_to_piece(handle, i);
    const int kind = spm.kind(handle, i);
    if (kind == 1) {
      impl->kind[k] = 1;
    } else if (kind == 2) {
      impl->kind[k] = 2;
    } else if (kind == 3) {
      impl->kind[k] = 3;
      impl->byte_fallback = true;
      // "<0xAB>"
      impl->byte_value[k] = static_cast<uint8_t>(std::stoul(impl->piece_text[k].substr(3, 2), nullptr, 16));
    }
  }
  // Word-splitting is exact when no piece continues across a space boundary.
  impl->word_split = info.normalizer_name == "identity";
  for (const auto& piece : impl->piece_text) {
    bool seen_other = false;
    for (size_t i = 0; i < piece.size() && impl->word_split;) {
      if (piece.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
        if (seen_other || (i > 0 && piece.find_first_not_of("\xE2\x96\x81") != std::string::npos)) impl->word_split = false;
        i += kSpaceSymbol.size();
      } else {
        seen_other = true;
        ++i;
      }
    }
    if (!impl->word_split) break;
  }
  for (const auto& [text, id] : cfg.added) {
    if (id < impl->pieces) {
      if (impl->piece_text[static_cast<size_t>(id)] != text)
        throw Error(config_dir + ": added token '" + text + "' has id " + std::to_string(id) +
                    " but the SentencePiece model has piece '" + impl->piece_text[static_cast<size_t>(id)] +
                    "' there");
      continue;
    }
    impl->added[id] = text;
    impl->added_by_text[text] = id;
  }
  auto pick = [&](const std::string& named, int fallback) -> int32_t {
    if (!named.empty()) {
      int32_t id = impl->lookup(named);
      if (id < 0)
        throw Error(config_dir + ": the tokenizer config names special token '" + named +
                    "' but the vocabulary of " + name + " has no such piece");
      return id;
    }
    return fallback;
  };
  int sp_bos, sp_eos, sp_unk, sp_pad;
  spm.special(handle, &sp_bos, &sp_eos, &sp_unk, &sp_pad);
  impl->bos = pick(cfg.bos, sp_bos);
  impl->eos = pick(cfg.eos, sp_eos);
  impl->unk = pick(cfg.unk, sp_unk);
  impl->pad = pick(cfg.pad, sp_pad);
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

void Tokenizer::encode_append(std::string_view text, bool chunk_start, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::vector<int> ids;
  std::string error;
  int ok;
  if (chunk_start && impl_->dummy_prefix) {
    std::string with_prefix;
    with_prefix.reserve(text.size() + 1);
    with_prefix += ' ';
    with_prefix.append(text.data(), text.size());
    ok = spm_api().encode(impl_->sp->get(), with_prefix.data(), with_prefix.size(), &ids, &error);
  } else {
    ok = spm_api().encode(impl_->sp->get(), text.data(), text.size(), &ids, &error);
  }
  if (!ok) throw Error(impl_->name + ": encoding failed: " + error, kExitFailure);
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool chunk_start) const {
  std::vector<int32_t> out;
  encode_append(text, chunk_start, out);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
  const Impl& m = *impl_;
  std::string out;
  std::string chunk;      // the current chunk with "▁" still escaped
  bool chunk_at_start = true;
  std::string bytes;      // pending byte-fallback bytes
  auto flush_bytes = [&]() {
    if (bytes.empty()) return;
    // Invalid UTF-8 from stray byte pieces becomes U+FFFD, as SentencePiece does.
    size_t pos = 0;
    while (pos < bytes.size()) {
      std::string_view rest(bytes.data() + pos, bytes.size() - pos);
      size_t bad = find_invalid_utf8(rest);
      if (bad == std::string_view::npos) {
        chunk.append(rest);
        break;
      }
      chunk.append(rest.substr(0, bad));
      append_utf8(chunk, 0xFFFD);
      pos += bad + 1;
    }
    bytes.clear();
  };
  auto flush_chunk = [&]() {
    flush_bytes();
    std::string text;
    text.reserve(chunk.size());
    size_t i = 0;
    while (i < chunk.size()) {
      if (chunk.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
        text += ' ';
        i += kSpaceSymbol.size();
      } else {
        text += chunk[i++];
      }
    }
    if (chunk_at_start && m.dummy_prefix && !text.empty() && text[0] == ' ') text.erase(0, 1);
    out += text;
    chunk.clear();
  };
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size())
      throw Error(m.name + ": token id " + std::to_string(id) + " is outside the vocabulary (size " +
                  std::to_string(vocab_size()) + ")");
    if (id >= m.pieces) {  // added special token
      flush_chunk();
      if (render_special) out += m.added.at(id);
      chunk_at_start = true;
      continue;
    }
    const size_t k = static_cast<size_t>(id);
    switch (m.kind[k]) {
      case 1:  // control
        flush_chunk();
        if (render_special) out += m.piece_text[k];
        chunk_at_start = true;
        break;
      case 3:  // byte
        bytes += static_cast<char>(m.byte_value[k]);
        break;
      case 2:  // unknown
        flush_bytes();
        chunk += " \xE2\x81\x87 ";  // " ⁇ ", as SentencePiece renders <unk>
        break;
      default:
        flush_bytes();
        chunk += m.piece_text[k];
        break;
    }
  }
  flush_chunk();
  return out;
}

int Tokenizer::vocab_size() const {
  int n = impl_->pieces;
  if (!impl_->added.empty()) n = std::max(n, impl_->added.rbegin()->first + 1);
  return n;
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  if (id >= 0 && id < impl_->pieces) return impl_->piece_text[static_cast<size_t>(id)];
  auto it = impl_->added.find(id);
  if (it != impl_->added.end()) return it->second;
  throw Error(impl_->name + ": token id " + std::to_string(id) + " is outside the vocabulary");
}

int32_t Tokenizer::piece_to_id(const std::string& piece) const { return impl_->lookup(piece); }

int32_t Tokenizer::special_id(const std::string& token) const {
  int32_t id = impl_->lookup(token);
  if (id < 0) return -1;
  return is_special(id) ? id : -1;
}

bool Tokenizer::is_special(int32_t id) const {
  if (id >= impl_->pieces) return impl_->added.count(id) > 0;
  return id >= 0 && impl_->kind[static_cast<size_t>(id)] == 1;
}

bool Tokenizer::is_byte(int32_t id) const {
  return id >= 0 && id < impl_->pieces && impl_->kind[static_cast<size_t>(id)] == 3;
}

int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos; }
int32_t Tokenizer::unk_id() const { return impl_->unk; }
int32_t Tokenizer::pad_id() const { return impl_->pad; }
std::string Tokenizer::bos_text() const { return impl_->bos < 0 ? "" : id_to_piece(impl_->bos); }
std::string Tokenizer::eos_text() const { return impl_->eos < 0 ? "" : id_to_piece(impl_->eos); }
bool Tokenizer::adds_dummy_prefix() const { return impl_->dummy_prefix; }
bool Tokenizer::splits_at_words() const { return impl_->word_split; }
bool Tokenizer::has_byte_fallback() const { return impl_->byte_fallback; }
const std::string& Tokenizer::name() const { return impl_->name; }

}  // namespace psy
