#include "libpsy/retrieval/case_retrieval.h"

#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"

namespace psy {

namespace {

std::string fnv_hex(const std::vector<std::string>& items) {
  uint64_t h = 1469598103934665603ULL;
  for (const auto& s : items) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xFF;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Embeddings of `texts`, from (and added to) the query cache in settings.cache_dir when there is one.
std::vector<std::vector<float>> embed_queries(const std::vector<std::string>& texts, const EmbedFn& embed,
                                              const CaseIndexSettings& settings, size_t dim) {
  auto embed_checked = [&](const std::vector<std::string>& t) {
    auto v = t.empty() ? std::vector<std::vector<float>>() : embed(t);
    if (v.size() != t.size())
      throw Error("sentence encoder: " + expected_found(std::to_string(t.size()) + " embeddings", std::to_string(v.size())));
    return v;
  };
  if (settings.cache_dir.empty()) return embed_checked(texts);
  const std::string meta_path = settings.cache_dir + "/retrieval-queries.json";
  const std::string data_path = settings.cache_dir + "/retrieval-queries.f32";
  std::vector<std::string> keys;
  EmbeddingIndex cached(dim);
  if (path_exists(meta_path) && path_exists(data_path)) {
    try {
      const nlohmann::json m = read_json_file(meta_path);
      if (m.value("encoder_fingerprint", "") == settings.encoder_fingerprint && m.value("dimension", size_t{0}) == dim) {
        keys = m.at("keys").get<std::vector<std::string>>();
        cached = EmbeddingIndex::load(data_path, keys.size(), dim);
      }
    } catch (const std::exception&) {
      keys.clear();
      cached = EmbeddingIndex(dim);
    }
  }
  std::unordered_map<std::string, size_t> row;
  for (size_t i = 0; i < keys.size(); ++i) row.emplace(keys[i], i);
  std::vector<std::string> missing;
  std::vector<std::string> text_keys;
  for (const auto& t : texts) {
    text_keys.push_back(fnv_hex({t}));
    if (!row.count(text_keys.back())) {
      row.emplace(text_keys.back(), keys.size() + missing.size());
      missing.push_back(t);
    }
  }
  if (!missing.empty()) {
    for (const auto& v : embed_checked(missing)) cached.add(v);
    for (const auto& t : missing) keys.push_back(fnv_hex({t}));
    make_dirs(settings.cache_dir);
    cached.save(data_path);
    nlohmann::ordered_json m;
    m["encoder"] = settings.encoder;
    m["encoder_fingerprint"] = settings.encoder_fingerprint;
    m["dimension"] = dim;
    m["keys"] = keys;
    write_file_atomic(meta_path, m.dump() + "\n");
  }
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  const auto& data = cached.data();
  for (const auto& k : text_keys) {
    const size_t r = row.at(k);
    out.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(r * dim), data.begin() + static_cast<std::ptrdiff_t>((r + 1) * dim));
  }
  return out;
}

}  // namespace

std::string session_source_key(const Session& s) {
  return s.source_file + '\x1f' + std::to_string(s.source_index) + '\x1f' + s.dialog_id;
}

void check_retrieval_corpus(const std::vector<Session>& train, const RetrievalOptions& o, const std::string& where) {
  const std::string from = where.empty() ? "" : " of " + where;
  if (train.size() < 2 || o.k > train.size() - 1)
    throw Error("data.retrieval_k: " + std::to_string(o.k) + " is larger than the training split allows (" +
                std::to_string(train.size()) + " training sessions" + from +
                "); expected at most " + std::to_string(train.size() > 0 ? train.size() - 1 : 0) +
                " (a training turn never retrieves its own session)");
  auto check = [&](const std::vector<std::string>& fields, const std::string& key) {
    for (const auto& f : fields) {
      bool any = false;
      for (const auto& s : train) any = any || !retrieval_field(s, f).empty();
      if (!any)
        throw Error(key + ": field '" + f + "' is absent (empty) in all " + std::to_string(train.size()) +
                    " training sessions" + from + "; expected a session field the data carries");
    }
  };
  check(o.fields, "data.retrieval_fields");
  check(o.index_fields, "data.retrieval_index_fields");
}

CaseIndex build_case_index(std::vector<Session> train, const RetrievalOptions& o, const EmbedFn& embed,
                           const CaseIndexSettings& settings) {
  check_retrieval_corpus(train, o, settings.data_where);
  CaseIndex out;
  std::vector<std::string> docs, keyed;
  for (size_t i = 0; i < train.size(); ++i) {
    docs.push_back(retrieval_document(train[i], o.index_fields));
    keyed.push_back(train[i].dialog_id);
    keyed.push_back(docs.back());
    out.position.emplace(session_source_key(train[i]), static_cast<uint32_t>(i));
  }
  std::string fields;
  for (const auto& f : o.index_fields) fields += (fields.empty() ? "" : ",") + f;
  const std::string corpus_hash = fnv_hex(keyed);
  const std::string meta_path = settings.cache_dir + "/retrieval-index.json";
  const std::string data_path = settings.cache_dir + "/retrieval-index.f32";
  if (!settings.cache_dir.empty() && path_exists(meta_path) && path_exists(data_path)) {
    try {
      const nlohmann::json m = read_json_file(meta_path);
      if (m.value("encoder_fingerprint", "") == settings.encoder_fingerprint && m.value("index_fields", "") == fields &&
          m.value("corpus_hash", "") == corpus_hash && m.value("sessions", size_t{0}) == train.size()) {
        out.index = EmbeddingIndex::load(data_path, train.size(), m.value("dimension", size_t{0}));
        out.from_cache = true;
      }
    } catch (const std::exception&) {
      out.from_cache = false;  // unreadable cache: rebuild it
    }
  }
  if (!out.from_cache) {
    const auto vectors = embed(docs);
    if (vectors.size() != docs.size())
      throw Error("sentence encoder: " + expected_found(std::to_string(docs.size()) + " embeddings", std::to_string(vectors.size())));
    out.index = EmbeddingIndex();
    for (const auto& v : vectors) out.index.add(v);
    if (!settings.cache_dir.empty()) {
      make_dirs(settings.cache_dir);
      out.index.save(data_path);
      nlohmann::ordered_json m;
      m["encoder"] = settings.encoder;
      m["encoder_fingerprint"] = settings.encoder_fingerprint;
      m["index_fields"] = fields;
      m["corpus_hash"] = corpus_hash;
      m["sessions"] = train.size();
      m["dimension"] = out.index.dimension();
      std::vector<std::string> ids;
      for (const auto& s : train) ids.push_back(s.dialog_id);
      m["dialog_ids"] = ids;
      write_file_atomic(meta_path, m.dump(1) + "\n");
    }
  }
  out.corpus = std::make_shared<const std::vector<Session>>(std::move(train));
  out.settings = settings;
  return out;
}

RetrievedCases retrieve_cases(const CaseIndex& index, const std::vector<Session>& queries, const RetrievalOptions& o,
                              const EmbedFn& embed) {
  RetrievedCases rc;
  rc.corpus = index.corpus;
  rc.ranked.resize(queries.size());
  std::vector<std::string> texts;
  std::map<std::string, size_t> text_row;
  std::vector<std::vector<std::pair<size_t, size_t>>> wanted(queries.size());  // (turn, text row)
  for (size_t q = 0; q < queries.size(); ++q) {
    const Session& s = queries[q];
    rc.ranked[q].resize(s.turns.size());
    for (size_t t = 0; t < s.turns.size(); ++t) {
      if (!s.turns[t].is_therapist() || s.turns[t].content.empty()) continue;
      std::string text = retrieval_query(s, t, o.query_turns);
      auto it = text_row.find(text);
      if (it == text_row.end()) {
        it = text_row.emplace(text, texts.size()).first;
        texts.push_back(std::move(text));
      }
      wanted[q].push_back({t, it->second});
    }
  }
  const auto vectors = embed_queries(texts, embed, index.settings, index.index.dimension());
  for (size_t q = 0; q < queries.size(); ++q) {
    const auto self = index.position.find(session_source_key(queries[q]));
    const size_t exclude = self == index.position.end() ? index.index.size() : self->second;
    for (const auto& [t, row] : wanted[q]) {
      for (const auto& hit : index.index.top_k(vectors[row], o.k, exclude)) rc.ranked[q][t].push_back(hit.index);
    }
  }
  return rc;
}

}  // namespace psy
