// Parity with ../shared/golden/llama: logits of the right-padded batch (base and with the PEFT
// adapter) for every reference model, fp32 and bf16 storage, single file and sharded.
#include "tests/io/torch_catch.h"

#include <nlohmann/json.hpp>

#include "libpsy/io/safetensors.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "tests/io/test_device.h"
#include "tests/test_support.h"

namespace {

struct GoldenBatch {
  torch::Tensor ids, mask;
  std::vector<int64_t> lengths;
};

GoldenBatch golden_batch(const std::string& dir) {
  auto j = nlohmann::json::parse(psy::test::read_file(dir + "/inputs.json"))["batch"];
  GoldenBatch b;
  std::vector<int64_t> ids, mask;
  const auto rows = static_cast<int64_t>(j["input_ids"].size());
  for (const auto& row : j["input_ids"]) for (const auto& x : row) ids.push_back(x.get<int64_t>());
  for (const auto& row : j["attention_mask"]) for (const auto& x : row) mask.push_back(x.get<int64_t>());
  b.ids = torch::tensor(ids).view({rows, -1});
  b.mask = torch::tensor(mask).view({rows, -1});
  for (const auto& x : j["lengths"]) b.lengths.push_back(x.get<int64_t>());
  return b;
}

// Largest |ours - golden| over the real positions of every sequence.
double max_diff(const torch::Tensor& logits, const GoldenBatch& b, const std::string& golden_file, double atol,
                double rtol, bool* all_close) {
  psy::SafetensorsReader golden(golden_file);
  double worst = 0;
  *all_close = true;
  for (std::size_t i = 0; i < b.lengths.size(); ++i) {
    torch::Tensor expected = golden.tensor("logits." + std::to_string(i));
    torch::Tensor ours = logits[static_cast<int64_t>(i)].narrow(0, 0, b.lengths[i]).to(torch::kFloat32).cpu();
    REQUIRE(ours.sizes() == expected.sizes());
    worst = std::max(worst, (ours - expected).abs().max().item<double>());
    if (!torch::allclose(ours, expected, rtol, atol)) *all_close = false;
  }
  return worst;
}

void check_model(const std::string& name, torch::ScalarType dtype, psy::AttentionKernel kernel, double atol) {
  const std::string dir = psy::test::shared_path("golden/llama/" + name);
  if (dir.empty()) return;
  psy::DecoderOptions opts;
  opts.dtype = dtype;
  opts.attention = kernel;
  opts.device = psy::test::test_device();
  psy::Decoder d = psy::load_decoder(dir, opts);
  GoldenBatch b = golden_batch(dir);
  torch::NoGradGuard no_grad;
  bool ok = false;
  double diff = max_diff(d->forward(b.ids.to(opts.device), b.mask.to(opts.device)), b, dir + "/logits.safetensors", atol, atol, &ok);
  std::cerr << name << " (" << c10::toString(dtype) << ") base logits max |diff| = " << diff << "\n";
  CHECK(ok);
  CHECK(psy::load_peft_adapter(*d, dir + "/adapter") == 7 * d->config().num_hidden_layers);
  diff = max_diff(d->forward(b.ids.to(opts.device), b.mask.to(opts.device)), b, dir + "/logits_lora.safetensors", atol, atol, &ok);
  std::cerr << name << " (" << c10::toString(dtype) << ") LoRA logits max |diff| = " << diff << "\n";
  CHECK(ok);
}

}  // namespace

TEST_CASE("golden logits in fp32 (plain attention): MHA, GQA with rope_theta 1e6, MQA BF16 sharded") {
  for (const char* name : {"llama_mha", "mistral_gqa", "llama_mqa_bf16_sharded"}) {
    INFO(name);
    check_model(name, torch::kFloat32, psy::AttentionKernel::Plain, 1e-4);
  }
}

TEST_CASE("golden logits with the fused attention kernel (LibTorch >= 2.0)") {
  if (!psy::fused_attention_available()) {
    std::cerr << "SKIPPED: this LibTorch has no scaled_dot_product_attention\n";
    return;
  }
  for (const char* name : {"llama_mha", "mistral_gqa", "llama_mqa_bf16_sharded"}) {
    INFO(name);
    check_model(name, torch::kFloat32, psy::AttentionKernel::Fused, 1e-4);
  }
}

TEST_CASE("golden logits computed in bf16 stay within the README's bf16 tolerance") {
  check_model("llama_mqa_bf16_sharded", torch::kBFloat16, psy::AttentionKernel::Auto, 0.2);
}

TEST_CASE("named_parameters() equals the checkpoint keys") {
  const std::string dir = psy::test::shared_path("golden/llama/mistral_gqa");
  if (dir.empty()) return;
  psy::Decoder d = psy::load_decoder(dir);
  std::vector<std::string> ours;
  for (const auto& p : d->named_parameters()) ours.push_back(p.key());
  std::sort(ours.begin(), ours.end());
  CHECK(ours == psy::CheckpointReader(dir).names());
  auto projections = d->projections();
  CHECK(projections.size() == 7 * 3 + 1);
  CHECK(projections.front().first == "model.layers.0.self_attn.q_proj");
  CHECK(projections.back().first == "lm_head");
}

TEST_CASE("a PEFT adapter saved by us reloads to the same logits and has PEFT's keys and config") {
  const std::string dir = psy::test::shared_path("golden/llama/llama_mha");
  if (dir.empty()) return;
  psy::Decoder d = psy::load_decoder(dir);
  psy::load_peft_adapter(*d, dir + "/adapter");
  psy::test::TempDir out;
  psy::save_peft_adapter(*d, out.path(), dir);
  psy::SafetensorsReader ours(out.file("adapter_model.safetensors"));
  psy::SafetensorsReader theirs(dir + "/adapter/adapter_model.safetensors");
  auto a = ours.names(), b = theirs.names();
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  CHECK(a == b);
  for (const auto& k : a) CHECK(torch::equal(ours.tensor(k), theirs.tensor(k)));
  auto cfg = nlohmann::json::parse(psy::test::read_file(out.file("adapter_config.json")));
  auto ref = nlohmann::json::parse(psy::test::read_file(dir + "/adapter/adapter_config.json"));
  for (const char* key : {"r", "lora_alpha", "peft_type", "task_type", "bias", "use_rslora", "fan_in_fan_out"}) {
    INFO(key);
    CHECK(cfg[key] == ref[key]);
  }
  auto t1 = cfg["target_modules"].get<std::vector<std::string>>();
  auto t2 = ref["target_modules"].get<std::vector<std::string>>();
  std::sort(t1.begin(), t1.end());
  std::sort(t2.begin(), t2.end());
  CHECK(t1 == t2);
}
