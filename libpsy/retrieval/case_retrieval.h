// Retrieval of similar training cases for the rag tasks, given any sentence embedder: the index
// over the training split (cached in the run folder with the encoder's fingerprint), and the
// ranked cases for every therapist turn of a list of query sessions. No LibTorch (the encoder is
// passed in as a function; libpsy/retrieval/recipe_retrieval.h binds the real one).
//
// A query session that is itself in the index (a training session) never retrieves itself.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libpsy/data/retrieval_prompt.h"
#include "libpsy/data/session.h"
#include "libpsy/retrieval/embedding_index.h"

namespace psy {

// One embedding per text, in order.
using EmbedFn = std::function<std::vector<std::vector<float>>(const std::vector<std::string>& texts)>;

struct CaseIndexSettings {
  std::string encoder;              // the encoder folder (recorded in the cache)
  std::string encoder_fingerprint;  // changes whenever the encoder's files change
  std::string cache_dir;            // "" = no cache; else index files live here
  std::string data_where;           // the data file(s), for messages
};

struct CaseIndex {
  std::shared_ptr<const std::vector<Session>> corpus;  // the training sessions, in split order
  EmbeddingIndex index;                                // row i = corpus[i]
  bool from_cache = false;
  std::unordered_map<std::string, uint32_t> position;  // session source key -> row
  CaseIndexSettings settings;                          // where it is cached (query embeddings too)
};

// The key that identifies a session across lists: source file, position and dialog id.
std::string session_source_key(const Session& s);

// One-line psy::Error (exit 2) when k exceeds the training split less one (a training turn never
// retrieves its own session) or when a retrieval field is empty in every training session.
void check_retrieval_corpus(const std::vector<Session>& train, const RetrievalOptions& options,
                            const std::string& data_where);

// Builds (or loads from settings.cache_dir when the encoder fingerprint, index fields and the
// documents all match) the index over `train`.
CaseIndex build_case_index(std::vector<Session> train, const RetrievalOptions& options, const EmbedFn& embed,
                           const CaseIndexSettings& settings);

// The top-k cases of every non-empty therapist turn of `queries` (query = retrieval_query).
// With a cache folder, query embeddings are cached there too (retrieval-queries.*, keyed by the
// query text's hash and the encoder fingerprint), so training, data build and evaluation of one
// run embed each query once.
RetrievedCases retrieve_cases(const CaseIndex& index, const std::vector<Session>& queries,
                              const RetrievalOptions& options, const EmbedFn& embed);

}  // namespace psy
