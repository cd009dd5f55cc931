#include "libpsy/retrieval/recipe_retrieval.h"

#include "eval/bertscore/sentence_encoder.h"
#include "libpsy/core/error.h"
#include "libpsy/data/sample_options.h"

namespace psy {

struct RecipeRetriever::Impl {
  RetrievalOptions options;
  std::unique_ptr<eval::SentenceEncoder> encoder;
  std::string fingerprint;
  CaseIndex index;
  EmbedFn embed;
};

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

RecipeRetriever::RecipeRetriever(const Recipe& recipe, std::vector<Session> train, const std::string& cache_dir)
    : impl_(std::make_unique<Impl>()) {
  const SampleOptions o = sample_options_from_recipe(recipe);
  impl_->options = o.retrieval;
  const std::string& dir = o.retrieval.encoder;
  if (dir.empty())
    throw Error(recipe.source_path + ": data.retrieval_encoder: empty; task " + recipe.data.task +
                " needs a sentence encoder folder (a BERT-family sentence-transformers model, e.g. all-MiniLM-L6-v2)");
  check_retrieval_corpus(train, o.retrieval, joined(recipe.data.path));  // before the (slow) encoder load
  try {
    impl_->encoder = std::make_unique<eval::SentenceEncoder>(dir);
    impl_->fingerprint = eval::sentence_encoder_fingerprint(impl_->encoder->layout());
  } catch (const Error& e) {
    throw Error("data.retrieval_encoder '" + dir + "' is not a usable sentence encoder: " + e.what(), e.exit_code());
  }
  const eval::SentenceEncoder* enc = impl_->encoder.get();
  impl_->embed = [enc](const std::vector<std::string>& texts) { return enc->encode(texts); };
  CaseIndexSettings settings;
  settings.encoder = dir;
  settings.encoder_fingerprint = impl_->fingerprint;
  settings.cache_dir = cache_dir == "-" ? "" : cache_dir.empty() ? recipe.output + "/retrieval" : cache_dir;
  settings.data_where = joined(recipe.data.path);
  impl_->index = build_case_index(std::move(train), o.retrieval, impl_->embed, settings);
}

RecipeRetriever::~RecipeRetriever() = default;

RetrievedCases RecipeRetriever::cases_for(const std::vector<Session>& queries) const {
  return retrieve_cases(impl_->index, queries, impl_->options, impl_->embed);
}

const CaseIndex& RecipeRetriever::index() const { return impl_->index; }
const std::string& RecipeRetriever::encoder_fingerprint() const { return impl_->fingerprint; }

RetrievedCases retrieve_for_recipe(const Recipe& recipe, const std::vector<Session>& train,
                                   const std::vector<Session>& queries) {
  return RecipeRetriever(recipe, train).cases_for(queries);
}

}  // namespace psy
