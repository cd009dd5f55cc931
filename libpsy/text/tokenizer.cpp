#include "libpsy/text/tokenizer.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/core/utf8.h"
#include "libpsy/text/sentencepiece_proto.h"
#include "libpsy/text/special_tokens_config.h"
#include "libpsy/text/spm_library.h"
#include "libpsy/text/tokenizer_json_loader.h"

namespace psy {

namespace {

const std::string kSpaceSymbol = "\xE2\x96\x81";  // U+2581, SentencePiece's escaped space

bool is_dir(const std::string& path) {
  // A folder exists and "path/." exists too.
  return path_exists(path) && path_exists(path + "/.");
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
  // tokenizer.json back end (when set, the SentencePiece fields below are unused).
  std::shared_ptr<const TokenizerJson> json;
  std::vector<bool> json_special;          // by id: an added special token or a config-named one
  bool add_bos = true, add_eos = false;    // SentencePiece back end: what tokenizer(text) adds

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
    if (json) return json->token_to_id(piece);
    auto a = added_by_text.find(piece);
    if (a != added_by_text.end()) return a->second;
    int id = spm_api().piece_to_id(sp->get(), piece);
    if (id >= 0 && id < pieces && piece_text[static_cast<size_t>(id)] == piece) return id;
    return -1;
  }
};

Tokenizer Tokenizer::load(const std::string& path) {
  std::string model_path = path;
  std::string config_dir;
  if (is_dir(path)) {
    config_dir = path;
    // Hugging Face's fast tokenizers prefer tokenizer.json when a folder has both.
    if (path_exists(path + "/tokenizer.json")) return from_tokenizer_json(path + "/tokenizer.json", config_dir);
    model_path = path + "/tokenizer.model";
    if (!path_exists(model_path))
      throw Error(path + ": no tokenizer.json or tokenizer.model in this folder (psy reads Hugging Face "
                  "tokenizer.json and SentencePiece models; `psy tokenizer train` makes one)");
  } else {
    auto slash = path.find_last_of('/');
    config_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  }
  if (!path_exists(model_path))
    throw Error(model_path + ": no such tokenizer (give a tokenizer.json or tokenizer.model file or a folder "
                "holding one; `psy tokenizer train` makes one)");
  if (model_path.size() >= 5 && model_path.compare(model_path.size() - 5, 5, ".json") == 0)
    return from_tokenizer_json(model_path, config_dir);
  return from_serialized(read_text_file(model_path), model_path, config_dir);
}

Tokenizer Tokenizer::from_tokenizer_json(const std::string& json_path, const std::string& config_dir) {
  return from_tokenizer_json_text(read_text_file(json_path), json_path, config_dir);
}

Tokenizer Tokenizer::from_tokenizer_json_text(const std::string& text, const std::string& name,
                                              const std::string& config_dir) {
  const ConfigTokens cfg = read_config_tokens(config_dir);
  TokenizerJsonParts parts = parse_tokenizer_json_parts(text, name);
  // Tokens the config names special, and the chat-format markers, are control tokens even when
  // tokenizer.json lists them as ordinary added tokens (transformers marks them special too).
  for (AddedToken& t : parts.added)
    if (cfg.special.count(t.content) || t.content == "<|im_start|>" || t.content == "<|im_end|>") t.special = true;
  auto impl = std::make_shared<Impl>();
  impl->name = name;
  impl->json = std::make_shared<const TokenizerJson>(std::move(parts));
  const TokenizerJson& tj = *impl->json;
  impl->json_special.assign(static_cast<size_t>(tj.vocab_size()), false);
  for (const AddedToken& t : tj.added_tokens())
    if (t.special) impl->json_special[static_cast<size_t>(t.id)] = true;
  for (const auto& [content, id] : cfg.added) {
    const int32_t have = tj.token_to_id(content);
    if (have != id)
      throw Error(config_dir + ": the tokenizer config gives token '" + content + "' id " + std::to_string(id) + " but " +
                  name + (have < 0 ? " does not have it" : " gives it id " + std::to_string(have)));
  }
  auto pick = [&](const std::string& named, int32_t fallback) -> int32_t {
    if (named.empty()) return fallback;
    const int32_t id = tj.token_to_id(named);
    if (id < 0)
      throw Error(config_dir + ": the tokenizer config names special token '" + named + "' but " + name +
                  " has no such token");
    if (static_cast<size_t>(id) < impl->json_special.size() && tj.added_token(id)) impl->json_special[static_cast<size_t>(id)] = true;
    return id;
  };
  // Without a config naming it, BOS is the one token the post-processor puts first (Llama-3's
  // <|begin_of_text|>, Mistral's <s>), if any.
  const auto& prefix = tj.post_processor().prefix;
  impl->bos = pick(cfg.bos, !cfg.bos_named && prefix.size() == 1 ? prefix[0] : -1);
  impl->eos = pick(cfg.eos, -1);
  impl->unk = pick(cfg.unk, tj.unk_id());
  impl->pad = pick(cfg.pad, -1);
  impl->dummy_prefix = tj.adds_dummy_prefix();
  impl->byte_fallback = tj.byte_fallback();
  impl->word_split = false;
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

Tokenizer Tokenizer::from_serialized(const std::string& model_bytes, const std::string& name,
                                     const std::string& config_dir) {
  const ConfigTokens cfg = read_config_tokens(config_dir);
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
  void* handle = spm.load(patched, load_error);
  if (!handle) throw Error(name + ": cannot load SentencePiece model: " + load_error);
  impl->sp = std::make_unique<SpmHandle>(handle);
  impl->dummy_prefix = info.add_dummy_prefix;
  impl->pieces = spm.size(handle);
  impl->piece_text.resize(static_cast<size_t>(impl->pieces));
  impl->kind.resize(static_cast<size_t>(impl->pieces));
  impl->byte_value.resize(static_cast<size_t>(impl->pieces));
  for (int i = 0; i < impl->pieces; ++i) {
    const size_t k = static_cast<size_t>(i);
    impl->piece_text[k] = std::string(spm.id_to_piece(handle, i));
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
  const SpmSpecialIds sp_ids = spm.special(handle);
  impl->bos = pick(cfg.bos, sp_ids.bos);
  impl->eos = pick(cfg.eos, sp_ids.eos);
  impl->unk = pick(cfg.unk, sp_ids.unk);
  impl->pad = pick(cfg.pad, sp_ids.pad);
  impl->add_bos = cfg.add_bos_token;
  impl->add_eos = cfg.add_eos_token;
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

void Tokenizer::encode_append(std::string_view text, bool chunk_start, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (impl_->json) {
    impl_->json->encode(text, /*match_special=*/false, chunk_start, out);
    return;
  }
  std::vector<int> ids;
  std::string error;
  bool ok;
  if (chunk_start && impl_->dummy_prefix) {
    std::string with_prefix;
    with_prefix.reserve(text.size() + 1);
    with_prefix += ' ';
    with_prefix.append(text.data(), text.size());
    ok = spm_api().encode(impl_->sp->get(), with_prefix, ids, error);
  } else {
    ok = spm_api().encode(impl_->sp->get(), text, ids, error);
  }
  if (!ok) throw Error(impl_->name + ": encoding failed: " + error, kExitFailure);
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool chunk_start) const {
  std::vector<int32_t> out;
  encode_append(text, chunk_start, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_like_hf(std::string_view text, bool add_special_tokens) const {
  const Impl& m = *impl_;
  std::vector<int32_t> out;
  if (m.json) {
    if (add_special_tokens) out = m.json->post_processor().prefix;
    m.json->encode(text, /*match_special=*/true, /*chunk_start=*/true, out);
    if (add_special_tokens) {
      const auto& suffix = m.json->post_processor().suffix;
      out.insert(out.end(), suffix.begin(), suffix.end());
    }
    return out;
  }
  // SentencePiece: control and added special tokens spelled in the text are split out first,
  // every text piece begins a chunk, and BOS/EOS follow tokenizer_config.json's add_bos_token /
  // add_eos_token (LlamaTokenizer's defaults: BOS only).
  if (add_special_tokens && m.add_bos && m.bos >= 0) out.push_back(m.bos);
  std::vector<std::pair<std::string, int32_t>> specials;
  for (int32_t id = 0; id < vocab_size(); ++id)
    if (is_special(id)) specials.emplace_back(id_to_piece(id), id);
  std::sort(specials.begin(), specials.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::pair<std::string, int32_t>* hit = nullptr;
    for (const auto& sp : specials)
      if (!sp.first.empty() && text.compare(i, sp.first.size(), sp.first) == 0) {
        hit = &sp;
        break;
      }
    if (!hit) {
      ++i;
      continue;
    }
    encode_append(text.substr(start, i - start), true, out);
    out.push_back(hit->second);
    i += hit->first.size();
    start = i;
  }
  encode_append(text.substr(start), true, out);
  if (add_special_tokens && m.add_eos && m.eos >= 0) out.push_back(m.eos);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
  const Impl& m = *impl_;
  if (m.json) {
    std::string out;
    std::vector<int32_t> chunk;
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size())
        throw Error(m.name + ": token id " + std::to_string(id) + " is outside the vocabulary (size " +
                    std::to_string(vocab_size()) + ")");
      if (!is_special(id)) {
        chunk.push_back(id);
        continue;
      }
      if (!chunk.empty()) out += m.json->decode_chunk(chunk);
      chunk.clear();
      if (render_special) out += id_to_piece(id);
    }
    if (!chunk.empty()) out += m.json->decode_chunk(chunk);
    return out;
  }
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
  if (impl_->json) return impl_->json->vocab_size();
  int n = impl_->pieces;
  if (!impl_->added.empty()) n = std::max(n, impl_->added.rbegin()->first + 1);
  return n;
}

std::string Tokenizer::id_to_piece(int32_t id) const {
  if (impl_->json) {
    const std::string* t = impl_->json->id_to_token(id);
    if (!t) throw Error(impl_->name + ": token id " + std::to_string(id) + " is outside the vocabulary");
    return *t;
  }
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
  if (impl_->json) return id >= 0 && static_cast<size_t>(id) < impl_->json_special.size() && impl_->json_special[static_cast<size_t>(id)];
  if (id >= impl_->pieces) return impl_->added.count(id) > 0;
  return id >= 0 && impl_->kind[static_cast<size_t>(id)] == 1;
}

bool Tokenizer::is_byte(int32_t id) const {
  if (impl_->json) return impl_->json->is_byte_piece(id);
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
