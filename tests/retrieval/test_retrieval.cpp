// Retrieval for the rag tasks without an encoder: the exact cosine index, case retrieval over
// the training split only (never the query's own session, never a test session), the index cache,
// rag samples (cases in the prompt, their weights, the token budget, truncation order) and the
// one-line errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/data/split.h"
#include "libpsy/evaluate/held_out_examples.h"
#include "libpsy/recipe/recipe.h"
#include "libpsy/retrieval/case_retrieval.h"
#include "libpsy/retrieval/embedding_index.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using namespace psy;

namespace {

// A deterministic stand-in encoder: letter-trigram counts hashed into 64 buckets.
std::vector<float> bag_of_trigrams(const std::string& text) {
  std::vector<float> v(64, 0.0f);
  for (size_t i = 0; i + 3 <= text.size(); ++i) {
    uint32_t h = 2166136261u;
    for (size_t k = i; k < i + 3; ++k) h = (h ^ static_cast<unsigned char>(text[k])) * 16777619u;
    v[h % 64] += 1.0f;
  }
  return v;
}

struct CountingEmbed {
  size_t* calls;
  std::vector<std::vector<float>> operator()(const std::vector<std::string>& texts) const {
    ++*calls;
    std::vector<std::vector<float>> out;
    for (const auto& t : texts) out.push_back(bag_of_trigrams(t));
    return out;
  }
};

std::vector<Session> en_all() { return load_sessions(test::sample_en_path()).sessions; }

std::string concat(const TokenizedSample& s, const std::string& section = "") {
  std::string out;
  for (const auto& g : s.segments)
    if (section.empty() || g.section == section) out += g.text;
  return out;
}

SampleOptions rag_options(SampleTask task) {
  SampleOptions o;
  o.lang = "en";
  o.task = task;
  o.chat_template = ChatTemplate::Mistral;
  o.max_seq_len = 4096;
  o.prompt_loss_weight = 0.25f;
  o.retrieval.k = 2;
  return o;
}

}  // namespace

TEST_CASE("the exact index ranks by cosine, breaks ties by index and skips the excluded row", "[retrieval][index]") {
  EmbeddingIndex idx;
  idx.add({1, 0, 0});
  idx.add({0, 2, 0});   // normalised to (0, 1, 0)
  idx.add({1, 1, 0});
  idx.add({3, 0, 0});   // the same direction as row 0: a tie
  auto hits = idx.top_k({2, 0.1f, 0}, 3, idx.size());
  REQUIRE(hits.size() == 3);
  CHECK(hits[0].index == 0);
  CHECK(hits[1].index == 3);
  CHECK(hits[2].index == 2);
  CHECK(hits[0].score == Approx(hits[1].score));
  hits = idx.top_k({2, 0.1f, 0}, 10, 0);
  CHECK(hits.size() == 3);
  CHECK(hits[0].index == 3);
  test::TempDir dir;
  idx.save(dir.file("i.f32"));
  const EmbeddingIndex back = EmbeddingIndex::load(dir.file("i.f32"), 4, 3);
  CHECK(back.data() == idx.data());
  CHECK_THROWS_WITH(EmbeddingIndex::load(dir.file("i.f32"), 5, 3), Catch::Contains("expected 60 bytes"));
}

TEST_CASE("cases come from the training split only, never the query's own session", "[retrieval][split]") {
  const auto all = en_all();
  std::vector<Session> train, test;
  split_sessions(all, 0.25, 66, train, test);
  REQUIRE(!test.empty());
  std::set<std::string> train_ids, test_ids;
  for (const auto& s : train) train_ids.insert(s.dialog_id);
  for (const auto& s : test) test_ids.insert(s.dialog_id);
  RetrievalOptions o;
  o.k = train.size() - 1;  // every other training session: the widest net
  size_t calls = 0;
  const CaseIndex index = build_case_index(train, o, CountingEmbed{&calls}, {});
  size_t checked = 0;
  for (const std::vector<Session>* queries : std::vector<const std::vector<Session>*>{&train, &test, &all}) {
    const RetrievedCases rc = retrieve_cases(index, *queries, o, CountingEmbed{&calls});
    REQUIRE(rc.ranked.size() == queries->size());
    for (size_t q = 0; q < queries->size(); ++q)
      for (size_t t = 0; t < (*queries)[q].turns.size(); ++t) {
        const auto& ranked = rc.ranked[q][t];
        const bool wanted = (*queries)[q].turns[t].is_therapist() && !(*queries)[q].turns[t].content.empty();
        CHECK(ranked.size() == (wanted ? o.k : 0));
        for (uint32_t ci : ranked) {
          const std::string& id = rc.corpus->at(ci).dialog_id;
          CHECK(train_ids.count(id) == 1);
          CHECK(test_ids.count(id) == 0);
          CHECK(id != (*queries)[q].dialog_id);
          ++checked;
        }
      }
  }
  CHECK(checked > 100);
}

TEST_CASE("the index is cached with the encoder's fingerprint and rebuilt when it changes", "[retrieval][cache]") {
  const auto all = en_all();
  test::TempDir dir;
  RetrievalOptions o;
  CaseIndexSettings s;
  s.cache_dir = dir.file("run/retrieval");
  s.encoder_fingerprint = "aaaa";
  size_t calls = 0;
  const CaseIndex first = build_case_index(all, o, CountingEmbed{&calls}, s);
  CHECK_FALSE(first.from_cache);
  CHECK(calls == 1);
  CHECK(path_exists(dir.file("run/retrieval/retrieval-index.json")));
  const CaseIndex again = build_case_index(all, o, CountingEmbed{&calls}, s);
  CHECK(again.from_cache);
  CHECK(calls == 1);
  CHECK(again.index.data() == first.index.data());
  s.encoder_fingerprint = "bbbb";
  CHECK_FALSE(build_case_index(all, o, CountingEmbed{&calls}, s).from_cache);
  CHECK(calls == 2);
  o.index_fields = {"background"};
  const CaseIndex rebuilt = build_case_index(all, o, CountingEmbed{&calls}, s);
  CHECK_FALSE(rebuilt.from_cache);
  // Query embeddings are cached beside the index: the second retrieval embeds nothing, and gives the same cases.
  calls = 0;
  const RetrievedCases a = retrieve_cases(rebuilt, all, o, CountingEmbed{&calls});
  CHECK(calls == 1);
  CHECK(path_exists(dir.file("run/retrieval/retrieval-queries.json")));
  const RetrievedCases b = retrieve_cases(rebuilt, all, o, CountingEmbed{&calls});
  CHECK(calls == 1);
  CHECK(a.ranked == b.ranked);
  const RetrievedCases c = retrieve_cases(build_case_index(all, o, CountingEmbed{&calls}, {}), all, o, CountingEmbed{&calls});
  CHECK(c.ranked == a.ranked);  // the same as without any cache
}

TEST_CASE("bad retrieval settings are refused in one line", "[retrieval][errors]") {
  auto all = en_all();
  RetrievalOptions o;
  size_t calls = 0;
  o.k = all.size();
  CHECK_THROWS_WITH(build_case_index(all, o, CountingEmbed{&calls}, {"", "", "", "data.json"}),
                    Catch::Contains("data.retrieval_k: 12 is larger than the training split") &&
                        Catch::Contains("12 training sessions of data.json") && Catch::Contains("expected at most 11"));
  o.k = 2;
  for (auto& s : all) s.summary.clear();
  CHECK_THROWS_WITH(build_case_index(all, o, CountingEmbed{&calls}, {}),
                    Catch::Contains("data.retrieval_fields: field 'summary' is absent (empty) in all 12 training sessions"));
  CHECK(calls == 0);
  SampleOptions so = rag_options(SampleTask::RagDialog);
  so.retrieval.fields = {"mood"};
  CHECK_THROWS_WITH(validate_sample_options(so), Catch::Contains("data.retrieval_fields: unknown field 'mood'"));
  so = rag_options(SampleTask::RagDialog);
  so.unit = SampleUnit::Session;
  CHECK_THROWS_WITH(validate_sample_options(so), Catch::Contains("data.unit"));
  CHECK_THROWS_WITH(build_samples(en_all(), rag_options(SampleTask::RagDialog), test::tiny_tokenizer()),
                    Catch::Contains("data.retrieval_encoder"));
}

TEST_CASE("rag samples put the retrieved cases in the prompt and train on the response", "[retrieval][samples]") {
  const auto all = en_all();
  std::vector<Session> train, test;
  split_sessions(all, 0.25, 66, train, test);
  size_t calls = 0;
  for (SampleTask task : {SampleTask::RagDialog, SampleTask::RagDialogExplanation}) {
    SampleOptions o = rag_options(task);
    o.retrieval.max_tokens = 100000;  // whole cases (explanations make them long)
    const CaseIndex index = build_case_index(train, o.retrieval, CountingEmbed{&calls}, {});
    const RetrievedCases rc = retrieve_cases(index, train, o.retrieval, CountingEmbed{&calls});
    const SampleSet set = build_samples(train, o, test::tiny_tokenizer(), &rc);
    REQUIRE(!set.samples.empty());
    for (const auto& s : set.samples) {
      INFO(s.session_id << " " << s.turn_id << " " << s.task);
      CHECK(s.task == task_name(task));
      REQUIRE(s.retrieved.size() == 2);
      const std::string cases = concat(s, "retrieved");
      CHECK(cases.find("Similar cases:") != std::string::npos);
      CHECK(cases.find("[1] Topic: ") != std::string::npos);
      CHECK(cases.find("Summary: ") != std::string::npos);
      for (const auto& g : s.segments) {
        if (g.section != "retrieved") continue;
        CHECK(g.role == "system");
        CHECK_FALSE(g.target);
        CHECK(g.weight == 0.25f);
      }
      std::string target;
      for (const auto& g : s.segments)
        if (g.target && g.section != "eos") target += g.text;
      // The cases are the ones retrieval ranked for this turn, in order.
      const Session& own = train[s.session_index];
      size_t turn = 0;
      while (own.turns[turn].id != s.turn_id) ++turn;
      if (task == SampleTask::RagDialog) CHECK(target.find("Reasoning:") == std::string::npos);
      else CHECK((target.rfind("Reasoning: ", 0) == 0) == !own.turns[turn].reasoning.empty());
      for (size_t r = 0; r < s.retrieved.size(); ++r)
        CHECK(s.retrieved[r] == rc.corpus->at(rc.ranked[s.session_index][turn][r]).dialog_id);
      // rag_dialog_explanation: a case brings its therapist turns' reasoning with the responses.
      if (task == SampleTask::RagDialogExplanation) CHECK(cases.find("\nReasoning: ") != std::string::npos);
      else CHECK(cases.find("\nReasoning: ") == std::string::npos);
    }
  }
}

TEST_CASE("the retrieved text keeps its token budget and goes before history", "[retrieval][truncation]") {
  const auto all = en_all();
  std::vector<Session> train, test;
  split_sessions(all, 0.25, 66, train, test);
  size_t calls = 0;
  SampleOptions o = rag_options(SampleTask::RagDialog);
  o.retrieval.k = 3;
  const CaseIndex index = build_case_index(train, o.retrieval, CountingEmbed{&calls}, {});
  const RetrievedCases rc = retrieve_cases(index, train, o.retrieval, CountingEmbed{&calls});
  const Tokenizer& tok = test::tiny_tokenizer();

  o.retrieval.max_tokens = 40;
  for (const auto& s : build_samples(train, o, tok, &rc).samples) {
    size_t case_tokens = 0;
    for (const auto& g : s.segments)
      if (g.section == "retrieved" && g.text.rfind("\n\nSimilar", 0) != 0) case_tokens += g.end - g.begin;
    CHECK(case_tokens <= 40 + 2);  // segment boundaries may merge a token or two
    CHECK(s.retrieved.size() >= 1);
  }

  // A limit the full prompt exceeds: cases go first, history stays while it fits.
  o.retrieval.max_tokens = 100000;
  const SampleSet whole = build_samples(train, o, tok, &rc);
  size_t longest_without_cases = 0;
  for (const auto& s : whole.samples) {
    size_t n = s.size();
    for (const auto& g : s.segments)
      if (g.section == "retrieved") n -= g.end - g.begin;
    longest_without_cases = std::max(longest_without_cases, n);
  }
  o.max_seq_len = static_cast<int>(longest_without_cases + 4);
  const SampleSet cut = build_samples(train, o, tok, &rc);
  REQUIRE(cut.samples.size() == whole.samples.size());
  size_t lost_cases = 0;
  for (const auto& s : cut.samples) {
    CHECK(s.dropped_history == 0);
    CHECK(s.size() <= static_cast<size_t>(o.max_seq_len));
    lost_cases += s.retrieved.size() < 3;
  }
  CHECK(lost_cases > 0);
}

TEST_CASE("held-out prompts retrieve from the training index", "[retrieval][eval]") {
  test::TempDir dir;
  const std::string yaml = "name: rag\nmodel: {tokenizer: " + test::tiny_tokenizer_dir() +
                           ", chat_template: mistral}\ndata: {path: [" + test::sample_en_path() +
                           "], task: rag_dialog, test_fraction: 0.25, retrieval_k: 2}\n";
  const Recipe recipe = parse_recipe(yaml, "rag.yaml");
  std::set<std::string> seen_train;
  size_t calls = 0;
  CaseRetrieval retrieval = [&](const std::vector<Session>& train, const std::vector<Session>& queries) {
    for (const auto& s : train) seen_train.insert(s.dialog_id);
    const SampleOptions o = sample_options_from_recipe(recipe);
    return retrieve_cases(build_case_index(train, o.retrieval, CountingEmbed{&calls}, {}), queries, o.retrieval,
                          CountingEmbed{&calls});
  };
  const HeldOutSet held = held_out_examples(recipe, test::tiny_tokenizer(), 0, retrieval);
  REQUIRE(!held.examples.empty());
  const std::set<std::string> test_ids(held.test_dialog_ids.begin(), held.test_dialog_ids.end());
  for (const auto& e : held.examples) {
    CHECK(e.prompt.retrieved.size() == 2);
    for (const auto& id : e.prompt.retrieved) {
      CHECK(seen_train.count(id) == 1);
      CHECK(test_ids.count(id) == 0);
    }
  }
  CHECK_THROWS_WITH(held_out_examples(recipe, test::tiny_tokenizer(), 0), Catch::Contains("need retrieval"));
}
