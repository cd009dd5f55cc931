// Live differential test of the decoder families against transformers itself: for every tiny
// checkpoint scripts/reference/make_tiny_models.py made (Llama-3 with llama3 RoPE and tied
// embeddings, Qwen2, Qwen3, Mistral v0.3, GLM, GLM-4-0414) and for the real SmolLM2-135M-Instruct,
// tests/reference/hf_logits.py renders 20 Psy-Insight client turns with the model's chat template,
// and gives transformers' fp32 eager logits and 64 greedy tokens. psy must give the same logits
// (within 1e-4 of the largest logit, fp32; all prompts in one left-padded batch) and the same
// greedy tokens (its generator: left padding, KV cache). LoRA tensor names and shapes equal those
// PEFT writes for the family. Skipped when .reference/ or ../shared is absent.
#include "tests/io/torch_catch.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "libpsy/generate/generator.h"
#include "libpsy/io/safetensors.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/lora.h"
#include "tests/test_support.h"

namespace {

bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

const char* const kModels[] = {"tiny-llama3", "tiny-qwen2",         "tiny-qwen3",          "tiny-mistral",
                                "tiny-glm",    "tiny-glm4",          "tiny-qwen2-window",   "tiny-mistral-window",
                                "smollm2-135m-instruct"};

// transformers' answers for every model present, from one Python process (made on first use).
struct Reference {
  bool ran = false;
  psy::test::TempDir dir;
  nlohmann::json jobs;  // name -> {vocab_size, prompts, greedy}
};

const Reference& reference() {
  static Reference ref;
  if (ref.ran) return ref;
  ref.ran = true;
  const std::string data = psy::test::shared_path("data/psy-insight/en_data_version7.json");
  if (data.empty()) return ref;
  nlohmann::json jobs = nlohmann::json::array();
  for (const char* name : kModels) {
    const std::string model = psy::test::reference_path(std::string("models/") + name);
    if (model.empty()) continue;
    // The family's own tokenizer and template where the folder has one, else SmolLM2's.
    std::string tokenizer = model;
    if (!file_exists(model + "/tokenizer.json")) tokenizer = psy::test::reference_path("models/smollm2-135m-instruct");
    if (tokenizer.empty()) continue;
    jobs.push_back({{"name", name}, {"model", model}, {"tokenizer", tokenizer}, {"out", ref.dir.file(std::string(name) + ".safetensors")}});
  }
  if (jobs.empty()) return ref;
  psy::test::write_file(ref.dir.file("jobs.json"), jobs.dump());
  auto r = psy::test::run_reference_python("tests/reference/hf_logits.py", psy::test::shell_quote(ref.dir.file("jobs.json")) +
                                                                             " " + psy::test::shell_quote(data) + " 20 64 8");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  ref.jobs = nlohmann::json::parse(r.out).at("jobs");
  return ref;
}

void check_family(const std::string& model_name) {
  const Reference& ref = reference();
  if (!ref.jobs.contains(model_name)) {
    std::printf("SKIPPED: no transformers reference for %s (see the lines above)\n", model_name.c_str());
    return;
  }
  const std::string model = psy::test::reference_path("models/" + model_name);
  const std::string out = ref.dir.file(model_name + ".safetensors");
  const auto& j = ref.jobs.at(model_name);
  const auto prompts = j.at("prompts").get<std::vector<std::vector<int64_t>>>();
  const auto greedy = j.at("greedy").get<std::vector<std::vector<int64_t>>>();
  REQUIRE(prompts.size() == 20);
  REQUIRE(greedy.size() == 20);

  psy::Decoder decoder = psy::load_decoder(model);
  torch::NoGradGuard no_grad;

  // Logits: all prompts as one left-padded batch, positions counted from each prompt's start.
  const int64_t batch = static_cast<int64_t>(prompts.size());
  int64_t width = 0;
  for (const auto& p : prompts) width = std::max<int64_t>(width, static_cast<int64_t>(p.size()));
  torch::Tensor ids = torch::zeros({batch, width}, torch::kInt64);
  torch::Tensor mask = torch::zeros({batch, width}, torch::kInt64);
  for (int64_t b = 0; b < batch; ++b) {
    const auto& p = prompts[static_cast<std::size_t>(b)];
    const int64_t pad = width - static_cast<int64_t>(p.size());
    ids[b].narrow(0, pad, static_cast<int64_t>(p.size())).copy_(torch::tensor(p, torch::kInt64));
    mask[b].narrow(0, pad, static_cast<int64_t>(p.size())).fill_(1);
  }
  torch::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);
  torch::Tensor logits = decoder->forward(ids, mask, nullptr, positions);
  psy::SafetensorsReader hf(out);
  double worst_abs = 0, worst_rel = 0;
  for (int64_t b = 0; b < batch; ++b) {
    torch::Tensor ref = hf.tensor("logits." + std::to_string(b));
    torch::Tensor pos = hf.tensor("positions." + std::to_string(b)).to(torch::kInt64);
    const int64_t pad = width - static_cast<int64_t>(prompts[static_cast<std::size_t>(b)].size());
    torch::Tensor ours = logits[b].index_select(0, pos + pad);
    REQUIRE(ours.sizes() == ref.sizes());
    const double diff = (ours - ref).abs().max().item<double>();
    const double scale = ref.abs().max().item<double>();
    worst_abs = std::max(worst_abs, diff);
    worst_rel = std::max(worst_rel, diff / scale);
  }
  std::printf("hf families: %-22s logits max|diff| %.3g (relative to the largest logit %.3g) over 20 prompts\n",
              model_name.c_str(), worst_abs, worst_rel);
  CHECK(worst_rel <= 1e-4);

  // Greedy continuations: psy's generator (left padding, KV cache), EOS off as in the reference.
  psy::GenerationOptions o;
  o.max_new_tokens = 64;
  o.pad_id = 0;
  auto result = psy::generate(*decoder, prompts, o);
  int identical = 0;
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    INFO(model_name << " prompt " << b);
    CHECK(result.rows[b].new_ids == greedy[b]);
    identical += result.rows[b].new_ids == greedy[b];
  }
  std::printf("hf families: %-22s greedy 64 tokens identical on %d of 20 prompts\n", model_name.c_str(), identical);
}

}  // namespace

TEST_CASE("Llama-3 (llama3 RoPE, tied embeddings) equals transformers", "[live]") { check_family("tiny-llama3"); }
TEST_CASE("Qwen2 (q/k/v biases) equals transformers", "[live]") { check_family("tiny-qwen2"); }
TEST_CASE("Qwen3 (q/k norms, decoupled head_dim) equals transformers", "[live]") { check_family("tiny-qwen3"); }
TEST_CASE("Mistral v0.3 equals transformers", "[live]") { check_family("tiny-mistral"); }
TEST_CASE("GLM (partial interleaved RoPE, fused gate_up) equals transformers", "[live]") { check_family("tiny-glm"); }
TEST_CASE("GLM-4-0414 (sandwich norms) equals transformers", "[live]") { check_family("tiny-glm4"); }
TEST_CASE("sliding windows (Qwen2 per layer, Mistral on all) equal transformers' masks", "[live]") {
  check_family("tiny-qwen2-window");
  check_family("tiny-mistral-window");
}
TEST_CASE("SmolLM2-135M-Instruct equals transformers", "[live]") { check_family("smollm2-135m-instruct"); }

TEST_CASE("LoRA tensor names and shapes equal what PEFT writes for the family", "[live]") {
  std::vector<std::pair<std::string, std::vector<std::string>>> cases;
  std::string args = "4";
  for (const std::string name : {"tiny-glm", "tiny-qwen2", "tiny-qwen3", "tiny-llama3"}) {
    const std::string model = psy::test::reference_path("models/" + name);
    if (model.empty()) return;
    const std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj",
                                              name == "tiny-glm" ? "gate_up_proj" : "gate_proj", "down_proj"};
    std::string list;
    for (const auto& t : targets) list += (list.empty() ? "" : ",") + t;
    args += " " + psy::test::shell_quote(model + "=" + list);
    cases.emplace_back(model, targets);
  }
  auto r = psy::test::run_reference_python("tests/reference/peft_lora_names.py", args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto models = nlohmann::json::parse(r.out).at("models");
  for (const auto& [model, targets] : cases) {
    INFO(model);
    std::map<std::string, std::vector<int64_t>> peft;
    const auto& tensors = models.at(model);
    for (auto it = tensors.begin(); it != tensors.end(); ++it) peft[it.key()] = it.value().get<std::vector<int64_t>>();
    psy::Decoder decoder = psy::load_decoder(model);
    psy::LoraSpec spec;
    spec.r = 4;
    spec.alpha = 8;
    spec.targets = targets;
    psy::inject_lora(*decoder, spec, 1);
    std::map<std::string, std::vector<int64_t>> ours;
    for (const auto& [key, tensor] : psy::lora_parameters(*decoder)) ours[key] = tensor.sizes().vec();
    CHECK(ours.size() == peft.size());
    CHECK(ours == peft);
  }
}
