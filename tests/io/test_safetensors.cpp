// safetensors with LibTorch: round trips for every dtype, zero-copy views, sharded checkpoints.
#include "tests/io/torch_catch.h"

#include "libpsy/core/error.h"
#include "libpsy/io/safetensors.h"
#include "tests/test_support.h"

TEST_CASE("write_safetensors then SafetensorsReader round-trips every dtype, shape and metadata") {
  psy::test::TempDir dir;
  const std::string path = dir.file("t.safetensors");
  torch::manual_seed(3);
  psy::NamedTensors tensors = {
      {"f32", torch::randn({3, 5})},
      {"f16", torch::randn({4}).to(torch::kFloat16)},
      {"bf16", torch::randn({2, 3}).to(torch::kBFloat16)},
      {"f64", torch::randn({2}, torch::kFloat64)},
      {"i64", torch::arange(7)},
      {"i32", torch::arange(3).to(torch::kInt32)},
      {"i16", torch::arange(3).to(torch::kInt16)},
      {"i8", torch::arange(-2, 3).to(torch::kInt8)},
      {"u8", torch::arange(5).to(torch::kUInt8)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(2.5)},
      {"empty", torch::zeros({0, 4})},
      {"strided", torch::randn({4, 6}).t()},
  };
  psy::write_safetensors(path, tensors, {{"format", "pt"}});
  psy::SafetensorsReader r(path);
  CHECK(r.metadata().at("format") == "pt");
  CHECK(r.names().size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    REQUIRE(r.has(name));
    CHECK(r.dtype(name) == t.scalar_type());
    CHECK(r.shape(name) == t.sizes().vec());
    CHECK(torch::equal(r.tensor(name), t));
    CHECK(torch::equal(r.load(name), t));
  }
  CHECK_FALSE(r.has("nope"));
  CHECK_THROWS_AS(r.tensor("nope"), psy::Error);
  // load converts dtype in one copy
  CHECK(r.load("f32", torch::kCPU, torch::kBFloat16).scalar_type() == torch::kBFloat16);
}

TEST_CASE("tensor() views outlive the reader and writes never reach the file") {
  psy::test::TempDir dir;
  const std::string path = dir.file("t.safetensors");
  psy::write_safetensors(path, psy::NamedTensors{{"w", torch::ones({8})}});
  torch::Tensor view;
  {
    psy::SafetensorsReader r(path);
    view = r.tensor("w");
  }
  CHECK(view.sum().item<float>() == 8.0f);
  view.mul_(3);
  CHECK(view.sum().item<float>() == 24.0f);
  CHECK(psy::SafetensorsReader(path).tensor("w").sum().item<float>() == 8.0f);
}

TEST_CASE("writing replaces a file atomically and refuses duplicates") {
  psy::test::TempDir dir;
  const std::string path = dir.file("t.safetensors");
  psy::write_safetensors(path, psy::NamedTensors{{"a", torch::ones({2})}});
  CHECK_THROWS_AS(psy::write_safetensors(path, psy::NamedTensors{{"a", torch::ones({2})}, {"a", torch::ones({1})}}),
                  psy::Error);
  CHECK(psy::SafetensorsReader(path).has("a"));
  std::map<std::string, torch::Tensor> m = {{"z", torch::zeros({1})}, {"b", torch::ones({1})}};
  psy::write_safetensors(path, m);
  CHECK(psy::SafetensorsReader(path).names().size() == 2);
}

TEST_CASE("CheckpointReader reads a single file, a folder, and a sharded folder through the index") {
  psy::test::TempDir dir;
  psy::write_safetensors(dir.file("model.safetensors"), psy::NamedTensors{{"a", torch::ones({2})}});
  CHECK(psy::CheckpointReader(dir.path()).has("a"));
  CHECK(psy::CheckpointReader(dir.file("model.safetensors")).has("a"));

  psy::test::TempDir sharded;
  psy::write_safetensors(sharded.file("s1.safetensors"), psy::NamedTensors{{"a", torch::ones({2})}, {"x", torch::ones({1})}});
  psy::write_safetensors(sharded.file("s2.safetensors"), psy::NamedTensors{{"b", torch::zeros({3})}});
  psy::test::write_file(sharded.file("model.safetensors.index.json"),
                        R"({"metadata":{"total_size":20},"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})");
  psy::CheckpointReader ck(sharded.path());
  CHECK(ck.names() == std::vector<std::string>({"a", "b"}));
  CHECK(ck.load("b").sum().item<float>() == 0.0f);
  CHECK(ck.files().size() == 2);
  CHECK_THROWS_WITH(ck.tensor("x"), Catch::Contains("no tensor named 'x'"));

  psy::test::write_file(sharded.file("model.safetensors.index.json"), R"({"weight_map":{"a":"../s1.safetensors"}})");
  CHECK_THROWS_WITH(psy::CheckpointReader(sharded.path()), Catch::Contains("inside the checkpoint folder"));
  psy::test::write_file(sharded.file("model.safetensors.index.json"), R"({"weight_map":{"q":"s1.safetensors"}})");
  CHECK_THROWS_WITH(psy::CheckpointReader(sharded.path()), Catch::Contains("no such tensor"));
}

TEST_CASE("the golden sharded BF16 checkpoint opens through its index") {
  const std::string dir = psy::test::shared_path("golden/llama/llama_mqa_bf16_sharded");
  if (dir.empty()) return;
  psy::CheckpointReader ck(dir);
  CHECK(ck.files().size() == 2);
  CHECK(ck.dtype("lm_head.weight") == torch::kBFloat16);
  CHECK(ck.shape("model.embed_tokens.weight") == std::vector<int64_t>({384, 64}));
}
