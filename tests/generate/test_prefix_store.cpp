// The prefix store: which earlier prompt a new one continues from, how many tokens it may skip,
// what it keeps and what it evicts, and that the copy it hands out is the cached keys/values.
#include "tests/io/torch_catch.h"

#include "libpsy/generate/prefix_store.h"

namespace {

constexpr int64_t kLayers = 2;

// A batch-1 cache of `tokens` positions whose key at (layer, position) is 1000 * layer + position
// plus `tag` (values are the negatives), so a copy can be told from its source.
psy::KVCache cache_of(int64_t tokens, double tag = 0) {
  psy::KVCache c(kLayers);
  c.reserve(tokens);
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    torch::Tensor k = (torch::arange(tokens, torch::kFloat32) + 1000.0 * static_cast<double>(layer) + tag)
                          .view({1, 1, tokens, 1})
                          .expand({1, 2, tokens, 4})
                          .contiguous();
    c.append(layer, k, -k);
  }
  return c;
}

std::vector<int64_t> tokens(std::initializer_list<int64_t> ids) { return ids; }

}  // namespace

TEST_CASE("prefix store: the longest shared start wins, and the last token is always left to prefill") {
  psy::PrefixStore store(1 << 20);
  CHECK(store.longest_prefix(tokens({1, 2, 3})).length == 0);
  store.add(tokens({1, 2, 3, 4, 5}), cache_of(5, 0.5));
  store.add(tokens({1, 2, 9, 9}), cache_of(4, 0.25));
  CHECK(store.entries() == 2);

  psy::PrefixStore::Match m = store.longest_prefix(tokens({1, 2, 3, 4, 7, 7}));
  CHECK(m.length == 4);
  REQUIRE(m.cache != nullptr);
  CHECK(m.cache->length() == 5);
  CHECK(m.cache->prefix_copy(1, 1).length() == 1);

  CHECK(store.longest_prefix(tokens({1, 2, 9, 9, 9})).length == 4);
  CHECK(store.longest_prefix(tokens({1, 2, 3})).length == 2);  // a start of an entry: all but its last token
  CHECK(store.longest_prefix(tokens({1})).length == 0);
  CHECK(store.longest_prefix(tokens({5, 1, 2})).length == 0);
}

TEST_CASE("prefix store: one entry per chain of prompts that extend each other") {
  psy::PrefixStore store(1 << 20);
  store.add(tokens({1, 2, 3}), cache_of(3));
  store.add(tokens({1, 2, 3, 4, 5}), cache_of(5));  // extends the first: replaces it
  CHECK(store.entries() == 1);
  store.add(tokens({1, 2, 3, 4}), cache_of(4));  // a start of the stored one: nothing new
  CHECK(store.entries() == 1);
  CHECK(store.longest_prefix(tokens({1, 2, 3, 4, 5, 6})).length == 5);
  store.add(tokens({1, 2, 7}), cache_of(3));  // branches off: a second entry
  CHECK(store.entries() == 2);
}

TEST_CASE("prefix store: least recently used entries leave first; 0 bytes keeps nothing") {
  const int64_t one = cache_of(8).bytes();
  REQUIRE(one > 0);
  psy::PrefixStore store(2 * one);
  store.add(tokens({1, 1, 1, 1, 1, 1, 1, 1}), cache_of(8));
  store.add(tokens({2, 2, 2, 2, 2, 2, 2, 2}), cache_of(8));
  CHECK(store.bytes() == 2 * one);
  CHECK(store.longest_prefix(tokens({1, 1, 5})).length == 2);  // uses the first: the second is now older
  store.add(tokens({3, 3, 3, 3, 3, 3, 3, 3}), cache_of(8));
  CHECK(store.entries() == 2);
  CHECK(store.bytes() <= 2 * one);
  CHECK(store.longest_prefix(tokens({1, 1, 5})).length == 2);
  CHECK(store.longest_prefix(tokens({2, 2, 5})).length == 0);
  CHECK(store.longest_prefix(tokens({3, 3, 5})).length == 2);

  psy::PrefixStore none(0);
  none.add(tokens({1, 2, 3}), cache_of(3));
  CHECK(none.entries() == 0);
  CHECK(none.longest_prefix(tokens({1, 2, 3, 4})).length == 0);
}

TEST_CASE("KV cache prefix_copy: the first positions of every layer, in buffers of their own") {
  psy::KVCache source = cache_of(6, 0.5);
  psy::KVCache copy = source.prefix_copy(4, 10);
  CHECK(copy.length() == 4);
  CHECK(copy.batch() == 1);
  CHECK(copy.bytes() == kLayers * 2 /*keys, values*/ * 2 * 10 * 4 * static_cast<int64_t>(sizeof(float)));  // capacity 10
  for (int64_t layer = 0; layer < kLayers; ++layer) {
    // Appending one position returns every cached one: the copied four, then the new one.
    torch::Tensor k_new = torch::full({1, 2, 1, 4}, 77.0);
    auto [k, v] = copy.append(layer, k_new, -k_new);
    REQUIRE(k.size(2) == 5);
    for (int64_t p = 0; p < 4; ++p) {
      CHECK(k[0][1][p][3].item<float>() == static_cast<float>(1000 * layer + p) + 0.5f);
      CHECK(v[0][0][p][0].item<float>() == -(static_cast<float>(1000 * layer + p) + 0.5f));
    }
    CHECK(k[0][0][4][0].item<float>() == 77.0f);
  }
  // The source is untouched by appends to the copy.
  auto [k_src, v_src] = source.append(0, torch::zeros({1, 2, 1, 4}), torch::zeros({1, 2, 1, 4}));
  CHECK(k_src[0][0][4][0].item<float>() == 4.5f);
  CHECK_THROWS(source.prefix_copy(9, 9));
  CHECK_THROWS(source.prefix_copy(3, 2));
}
