// Continuous batching: every prompt gets what it gets alone (greedy and seeded sampling), slots
// are reused as sequences finish, results can be released in input order, bad prompts refused.
#include "tests/io/torch_catch.h"

#include <algorithm>
#include <set>

#include "libpsy/core/error.h"
#include "libpsy/generate/continuous_batching.h"
#include "libpsy/nn/decoder.h"
#include "tests/tiny_decoder.h"

namespace {

psy::Decoder random_decoder(int64_t max_positions = 2048) {
  psy::test::TinyDecoderShape shape;
  shape.max_position_embeddings = max_positions;
  psy::Decoder d = psy::test::tiny_random_decoder(shape.config(), 5);
  {
    torch::NoGradGuard g;
    for (auto& p : d->parameters()) if (p.dim() == 2) p.mul_(40);
  }
  d->eval();
  return d;
}

// Prompts of lengths 1..n with varied ids (the first token is BOS-like 1).
std::vector<std::vector<int64_t>> prompts_of_lengths(const std::vector<int>& lengths) {
  std::vector<std::vector<int64_t>> out;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    std::vector<int64_t> p = {1};
    for (int k = 1; k < lengths[i]; ++k) p.push_back(2 + static_cast<int64_t>((i * 7 + static_cast<std::size_t>(k) * 13) % 37));
    out.push_back(p);
  }
  return out;
}

std::vector<psy::GeneratedRow> run_continuous(psy::DecoderImpl& d, const std::vector<std::vector<int64_t>>& prompts,
                                              const psy::GenerationOptions& o, int64_t slots) {
  std::vector<psy::GeneratedRow> rows(prompts.size());
  std::vector<int> calls(prompts.size(), 0);
  psy::generate_continuous(d, prompts, o, slots, [](std::size_t i) { return 100 + i; },
                           [&](std::size_t i, psy::GeneratedRow r) {
                             rows[i] = std::move(r);
                             ++calls[i];
                           });
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    INFO("prompt " << i);
    CHECK(calls[i] == 1);
  }
  return rows;
}

}  // namespace

TEST_CASE("continuous batching: each prompt generates what it generates alone, whatever the slots") {
  auto d = random_decoder();
  auto prompts = prompts_of_lengths({3, 17, 1, 9, 25, 2, 12, 6, 30, 4, 8});
  psy::GenerationOptions o;
  o.max_new_tokens = 40;
  // An EOS that some rows produce early and others late, so slots free up at different steps.
  std::vector<std::vector<int64_t>> alone;
  for (const auto& p : prompts) alone.push_back(psy::generate(*d, {p}, o).rows[0].new_ids);
  o.eos_ids = {alone[0][3]};
  std::vector<std::vector<int64_t>> expected;
  std::set<std::size_t> lengths;
  for (const auto& p : prompts) {
    expected.push_back(psy::generate(*d, {p}, o).rows[0].new_ids);
    lengths.insert(expected.back().size());
  }
  CHECK(lengths.size() >= 3);  // the test exercises rows finishing at different times
  for (int64_t slots : {1, 3, 4, 16}) {
    INFO("slots " << slots);
    auto rows = run_continuous(*d, prompts, o, slots);
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      INFO("prompt " << i);
      CHECK(rows[i].new_ids == expected[i]);
      CHECK(rows[i].finish_reason == (rows[i].new_ids.size() < 40 ? "eos" : "length"));
    }
  }
}

TEST_CASE("continuous batching: long generations compact the cache and stay equal") {
  auto d = random_decoder();
  auto prompts = prompts_of_lengths({2, 40, 5, 3, 33, 7});
  psy::GenerationOptions o;
  o.max_new_tokens = 120;
  std::vector<psy::GeneratedRow> rows(prompts.size());
  const psy::ContinuousStats stats = psy::generate_continuous(
      *d, prompts, o, 2, nullptr, [&](std::size_t i, psy::GeneratedRow r) { rows[i] = std::move(r); });
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    INFO("prompt " << i);
    CHECK(rows[i].new_ids == psy::generate(*d, {prompts[i]}, o).rows[0].new_ids);
  }
  // No EOS: every row runs 120 tokens, its first from the prefill, then 119 steps with the row
  // beside it (the pairs start and finish together), three pairs.
  CHECK(stats.decode_steps == 3 * 119);
  CHECK(stats.decode_rows == 6 * 119);
}

TEST_CASE("continuous batching: prompts that start like earlier ones prefill only the rest, same tokens") {
  auto d = random_decoder();
  // Like an evaluation's turns of one session: each prompt extends the one before it; one is a
  // start of another (it reuses all but its last token), one branches off after 5 tokens.
  std::vector<std::vector<int64_t>> prompts = prompts_of_lengths({24});
  for (int64_t extra : {3, 6, 2}) {
    prompts.push_back(prompts.back());
    for (int64_t k = 0; k < extra; ++k) prompts.back().push_back(3 + (extra * 5 + k * 11) % 31);
  }
  prompts.push_back(std::vector<int64_t>(prompts[2].begin(), prompts[2].begin() + 20));
  prompts.push_back(std::vector<int64_t>(prompts[0].begin(), prompts[0].begin() + 5));
  prompts.back().insert(prompts.back().end(), {9, 8, 7, 6});
  psy::GenerationOptions o;
  o.max_new_tokens = 24;
  std::vector<std::vector<int64_t>> alone;
  for (const auto& p : prompts) alone.push_back(psy::generate(*d, {p}, o).rows[0].new_ids);
  int64_t total = 0;
  for (const auto& p : prompts) total += static_cast<int64_t>(p.size());
  for (int64_t slots : {1, 3}) {
    INFO("slots " << slots);
    std::vector<std::vector<int64_t>> got(prompts.size());
    const psy::ContinuousStats stats = psy::generate_continuous(
        *d, prompts, o, slots, nullptr, [&](std::size_t i, psy::GeneratedRow r) { got[i] = std::move(r.new_ids); });
    CHECK(got == alone);
    CHECK(stats.prompt_tokens == total);
    CHECK(stats.reused_prompt_tokens >= total / 2);

    psy::GenerationOptions off = o;
    off.prefix_cache_bytes = 0;
    const psy::ContinuousStats none = psy::generate_continuous(
        *d, prompts, off, slots, nullptr, [&](std::size_t i, psy::GeneratedRow r) { got[i] = std::move(r.new_ids); });
    CHECK(got == alone);
    CHECK(none.reused_prompt_tokens == 0);
  }
}

TEST_CASE("continuous batching: seeded sampling draws per prompt, independent of the slots") {
  auto d = random_decoder();
  auto prompts = prompts_of_lengths({4, 11, 2, 7, 15});
  psy::GenerationOptions o;
  o.max_new_tokens = 16;
  o.sampling.do_sample = true;
  o.sampling.temperature = 1.5;
  o.sampling.repetition_penalty = 1.2;
  auto one = run_continuous(*d, prompts, o, 1);
  auto three = run_continuous(*d, prompts, o, 3);
  std::set<std::vector<int64_t>> distinct;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    INFO("prompt " << i);
    CHECK(one[i].new_ids == three[i].new_ids);
    distinct.insert(one[i].new_ids);
  }
  CHECK(distinct.size() == prompts.size());
}

TEST_CASE("continuous batching: stop strings, zero new tokens, interruption") {
  auto d = random_decoder();
  auto prompts = prompts_of_lengths({3, 8, 5});
  psy::GenerationOptions o;
  o.max_new_tokens = 20;
  o.detokenize = [](const std::vector<int64_t>& ids) {
    std::string s;
    for (int64_t id : ids) s += static_cast<char>('A' + id % 26);
    return s;
  };
  auto plain = run_continuous(*d, prompts, o, 2);
  const std::string stop = plain[1].text.substr(4, 2);
  o.stop_strings = {stop};
  auto stopped = run_continuous(*d, prompts, o, 2);
  CHECK(stopped[1].finish_reason == "stop_string");
  CHECK(stopped[1].text == plain[1].text.substr(0, plain[1].text.find(stop)));

  o.stop_strings.clear();
  o.max_new_tokens = 0;
  for (const auto& r : run_continuous(*d, prompts, o, 2)) {
    CHECK(r.new_ids.empty());
    CHECK(r.finish_reason == "length");
  }

  o.max_new_tokens = 20;
  int polls = 0;
  o.interrupted = [&] { return ++polls > 3; };
  std::vector<std::string> reasons(prompts.size());
  psy::generate_continuous(*d, prompts, o, 2, nullptr, [&](std::size_t i, psy::GeneratedRow r) {
    CHECK(reasons[i].empty());
    reasons[i] = r.finish_reason;
  });
  // The two rows in flight end as "interrupted"; the third prompt was never admitted.
  CHECK(std::count(reasons.begin(), reasons.end(), "interrupted") == 2);
  CHECK(std::count(reasons.begin(), reasons.end(), "") == 1);
}

TEST_CASE("continuous batching refuses bad prompts in one line") {
  auto d = random_decoder(/*max_positions=*/32);
  psy::GenerationOptions o;
  o.max_new_tokens = 8;
  auto nothing = [](std::size_t, psy::GeneratedRow) {};
  CHECK_THROWS_WITH(psy::generate_continuous(*d, {{1, 2}, {}}, o, 2, nullptr, nothing),
                    Catch::Contains("prompt 1 is empty"));
  CHECK_THROWS_WITH(psy::generate_continuous(*d, {{1, 99}}, o, 2, nullptr, nothing),
                    Catch::Contains("token id 99 outside the vocabulary [0, 40)"));
  CHECK_THROWS_WITH(psy::generate_continuous(*d, prompts_of_lengths({30}), o, 2, nullptr, nothing),
                    Catch::Contains("prompt 0 has 30 tokens; with max_new_tokens 8") &&
                        Catch::Contains("context of 32 positions"));
  CHECK_THROWS_WITH(psy::generate(*d, prompts_of_lengths({30}), o), Catch::Contains("context of 32 positions"));
  CHECK_THROWS_WITH(psy::generate_continuous(*d, {{1, 2}}, o, 0, nullptr, nothing), Catch::Contains("at least 1"));
}

TEST_CASE("admission order: windows in input order, longest first inside each") {
  auto prompts = prompts_of_lengths({2, 5, 3, 9, 1, 4, 4});
  CHECK(psy::admission_order(prompts, 3) == std::vector<std::size_t>{1, 2, 0, 3, 5, 4, 6});
  CHECK(psy::admission_order(prompts, 1) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
}

TEST_CASE("InputOrder releases results in input order from the first expected index") {
  std::vector<std::size_t> emitted;
  psy::InputOrder<int> order(2, [&](std::size_t i, int& v) {
    CHECK(v == static_cast<int>(i) * 10);
    emitted.push_back(i);
  });
  order.put(4, 40);
  order.put(3, 30);
  CHECK(emitted.empty());
  CHECK(order.buffered() == 2);
  order.put(2, 20);
  CHECK(emitted == std::vector<std::size_t>{2, 3, 4});
  CHECK(order.next() == 5);
}
