// Issue 18: the hostile probe's classes of bad input, one table across every parser psy has
// (recipe, dataset, predictions, config.json, adapter, tokenizer files, the inputs of psy logits
// and psy generate). Each must give its exit code (2 bad input, 1 failed operation), exactly ONE
// line on stderr naming the problem, no stack trace, and no file left behind (no output, no
// temporary file).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <filesystem>
#include <map>

#include "tests/cli/tiny_run.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using psy::test::line_count;
using psy::test::run_psy;

namespace {

// A minimal safetensors file of F32 zero tensors (name -> shape).
std::string safetensors_bytes(const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors) {
  std::string header = "{";
  size_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    size_t n = 1;
    std::string shape;
    for (size_t d = 0; d < tensors[i].second.size(); ++d) {
      n *= static_cast<size_t>(tensors[i].second[d]);
      shape += (d ? "," : "") + std::to_string(tensors[i].second[d]);
    }
    header += (i ? "," : "") + std::string("\"") + tensors[i].first + "\":{\"dtype\":\"F32\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + 4 * n) + "]}";
    offset += 4 * n;
  }
  header += "}";
  while (header.size() % 8) header += ' ';
  std::string out(8, '\0');
  uint64_t len = header.size();
  std::memcpy(&out[0], &len, 8);
  return out + header + std::string(offset, '\0');
}

const char* kAdapterKey = "base_model.model.model.layers.0.self_attn.q_proj.lora_";

std::string adapter_config(int r) {
  return "{\"peft_type\": \"LORA\", \"r\": " + std::to_string(r) +
         ", \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"], \"bias\": \"none\"}";
}

std::string session_json(const std::string& id, const std::string& extra = "") {
  return "{\"dialog_id\": \"" + id + "\", \"background\": \"b\"" + extra +
         ", \"dialog\": [{\"speaker\": \"Seeker\", \"content\": \"hi\", \"id\": \"0-0\"}, "
         "{\"speaker\": \"Supporter\", \"content\": \"hello\", \"id\": \"0-1\"}]}";
}

struct Case {
  std::string name;
  std::map<std::string, std::string> files;  // written under the case's folder T
  std::string args;                          // {T} = the case's folder, {M} = the tiny model, {Q} = quickstart
  int exit_code;
  std::string contains;                      // a part of the one line
};

std::string expand(std::string s, const std::string& t) {
  const std::map<std::string, std::string> vars = {
      {"{T}", t}, {"{M}", psy::test::tiny_model_dir()}, {"{Q}", psy::test::source_dir() + "/recipes/quickstart.yaml"}};
  for (const auto& [k, v] : vars)
    for (size_t pos = s.find(k); pos != std::string::npos; pos = s.find(k, pos + v.size())) s.replace(pos, k.size(), v);
  return s;
}

std::vector<Case> cases() {
  const std::string llama = "\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"], \"hidden_act\": \"silu\", "
                            "\"rms_norm_eps\": 1e-6, \"vocab_size\": 600, \"max_position_embeddings\": 2048";
  const std::string in_range_ids = "{\"input_ids\": [[1, 2, 3]]}";
  return {
      // Recipes.
      {"recipe: integer beyond int", {}, "recipe show {Q} train.micro_batch=4294967300", 2, "from -2147483648 to 2147483647"},
      {"recipe: NaN", {}, "recipe show {Q} lora.dropout=nan", 2, "finite number"},
      {"recipe: infinity in the file", {{"r.yaml", "train:\n  lr: .inf\n"}}, "recipe show {T}/r.yaml", 2, "train.lr"},
      {"recipe: negative threads", {}, "recipe show {Q} threads=-5", 2, "from 0 to 4096"},
      {"recipe: duplicate key", {{"r.yaml", "name: a\nseed: 1\nseed: 2\n"}}, "recipe show {T}/r.yaml", 2, "duplicate key 'seed'"},
      {"recipe: malformed YAML", {{"r.yaml", "train: {lr: [1\n"}}, "recipe show {T}/r.yaml", 2, "malformed YAML"},
      {"recipe: huge LoRA rank in train", {}, "train {Q} lora.r=1000000000", 2, "lora.r"},
      {"recipe: LoRA rank above the model's width", {},
       "train " + psy::test::source_dir() + "/tests/fixtures/cli/train_recipe.yaml model.path={M} data.path=[" +
           psy::test::sample_data() + "] output={T}/run lora.r=64 --quiet",
       2, "at most the model's hidden_size 32"},
      {"train: negative --threads", {}, "train {Q} --threads -3", 2, "--threads"},
      {"eval: negative --threads", {}, "eval {Q} --threads -3 --out {T}/eval", 2, "--threads"},
      // Datasets.
      {"dataset: 1e999", {{"d.json", "[\n" + session_json("a", ", \"x\": 1e999") + "\n]"}}, "data stats {T}/d.json", 2,
       "d.json:2:"},
      {"dataset: 1e999 in JSON Lines", {{"d.jsonl", session_json("a") + "\n" + session_json("b", ", \"x\": -1e999") + "\n"}},
       "data stats {T}/d.jsonl", 2, "d.jsonl:2:"},
      {"dataset: duplicate dialog_id", {{"d.jsonl", session_json("a") + "\n" + session_json("b") + "\n" + session_json("a") + "\n"}},
       "data split {T}/d.jsonl --out {T}/split", 2, "dialog_id 'a' is given twice, first at"},
      {"dataset: invalid UTF-8", {{"d.json", "[{\"dialog_id\": \"\xff\"}]"}}, "data stats {T}/d.json", 2, "invalid UTF-8"},
      {"dataset: truncated", {{"d.json", "[" + session_json("a")}}, "data stats {T}/d.json", 2, "malformed JSON"},
      {"dataset: empty", {{"d.json", ""}}, "data stats {T}/d.json", 2, "empty file"},
      // Predictions.
      {"predictions: malformed line", {{"p.jsonl", "{\"id\": \"1\", \"hyp\": \"a\", \"ref\": \"b\"}\n{\"id\": \n"}},
       "score --pred {T}/p.jsonl --out {T}/m.json --bootstrap 0", 2, "p.jsonl:2"},
      {"predictions: duplicate ids", {{"p.jsonl", "{\"id\": \"1\", \"hyp\": \"a\", \"ref\": \"b\"}\n{\"id\": \"1\", \"hyp\": \"a\", \"ref\": \"b\"}\n"}},
       "score --pred {T}/p.jsonl --out {T}/m.json --bootstrap 0", 2, "p.jsonl"},
      // config.json.
      {"config.json: absurd hidden_size", {{"c.json", "{" + llama + ", \"hidden_size\": 1000000000000, \"intermediate_size\": 64, "
                                                      "\"num_hidden_layers\": 2, \"num_attention_heads\": 4}"}},
       "init-model --config {T}/c.json --out {T}/model", 2, "hidden_size"},
      {"config.json: 70B shape", {{"c.json", "{" + llama + ", \"hidden_size\": 8192, \"intermediate_size\": 28672, "
                                              "\"num_hidden_layers\": 80, \"num_attention_heads\": 64, \"num_key_value_heads\": 8}"}},
       "init-model --config {T}/c.json --out {T}/model", 1, "memory available"},
      {"config.json: not JSON", {{"c.json", "{\"hidden_size\": "}}, "init-model --config {T}/c.json --out {T}/model", 2, "c.json"},
      {"config.json: 1e999", {{"c.json", "{" + llama + ", \"hidden_size\": 1e999}"}}, "init-model --config {T}/c.json --out {T}/model", 2,
       "c.json"},
      // Adapters.
      {"adapter: r disagrees with its tensors",
       {{"a/adapter_config.json", adapter_config(8)},
        {"a/adapter_model.safetensors", safetensors_bytes({{std::string(kAdapterKey) + "A.weight", {4, 32}},
                                                           {std::string(kAdapterKey) + "B.weight", {32, 4}}})},
        {"ids.json", in_range_ids}},
       "logits --model {M} --adapter {T}/a --input {T}/ids.json --out {T}/l.safetensors", 2, "says 8, but tensor"},
      {"adapter: config not JSON", {{"a/adapter_config.json", "{"}, {"ids.json", in_range_ids}},
       "logits --model {M} --adapter {T}/a --input {T}/ids.json --out {T}/l.safetensors", 2, "adapter_config.json"},
      // psy logits inputs.
      {"logits: token id beyond the vocabulary", {{"ids.json", "{\"input_ids\": [[1, 2, 99999]]}"}},
       "logits --model {M} --input {T}/ids.json --out {T}/l.safetensors", 2, "row 0, position 2: token id expected from 0 to 599"},
      {"logits: negative token id", {{"ids.json", "{\"input_ids\": [[-1, 2]]}"}},
       "logits --model {M} --input {T}/ids.json --out {T}/l.safetensors", 2, "found -1"},
      {"logits: mask not 0/1", {{"ids.json", "{\"input_ids\": [[1, 2]], \"attention_mask\": [[1, 7]]}"}},
       "logits --model {M} --input {T}/ids.json --out {T}/l.safetensors", 2, "0 or 1"},
      {"logits: 1e999", {{"ids.json", "{\"input_ids\": [[1e999]]}"}},
       "logits --model {M} --input {T}/ids.json --out {T}/l.safetensors", 2, "ids.json"},
      {"logits: unknown device", {{"ids.json", in_range_ids}},
       "logits --model {M} --input {T}/ids.json --out {T}/l.safetensors --device gpu7", 2, "--device"},
      // psy generate inputs.
      {"generate: token id beyond the vocabulary", {{"p.jsonl", "{\"input_ids\": [1, 600]}\n"}},
       "generate --model {M} --input {T}/p.jsonl --out {T}/g.jsonl", 2, "p.jsonl:1: token id"},
      {"generate: ids not integers", {{"p.jsonl", "{\"input_ids\": [1, \"x\"]}\n"}},
       "generate --model {M} --input {T}/p.jsonl --out {T}/g.jsonl", 2, "p.jsonl:1"},
      {"generate: message without a string role", {{"p.jsonl", "{\"messages\": [{\"role\": 3, \"content\": \"hi\"}]}\n"}},
       "generate --model {M} --input {T}/p.jsonl --out {T}/g.jsonl --chat-template mistral", 2, "p.jsonl:1"},
      {"generate: NaN temperature", {}, "generate --model {M} --prompt hi --temperature nan --out {T}/g.jsonl", 2,
       "--temperature"},
      {"generate: top-p beyond 1", {}, "generate --model {M} --prompt hi --top-p 7 --out {T}/g.jsonl", 2, "--top-p"},
      {"generate: endless max-new-tokens", {}, "generate --model {M} --prompt hi --max-new-tokens 99999999999 --out {T}/g.jsonl",
       2, "--max-new-tokens"},
      {"generate: negative repetition penalty", {},
       "generate --model {M} --prompt hi --repetition-penalty -1 --out {T}/g.jsonl", 2, "--repetition-penalty"},
      // Tokenizer files.
      {"tokenizer: not a SentencePiece model", {{"tok/tokenizer.model", "not a protobuf"}, {"p.jsonl", "{\"prompt\": \"hi\"}\n"}},
       "generate --model {M} --tokenizer {T}/tok --input {T}/p.jsonl --out {T}/g.jsonl", 2, "tokenizer.model"},
  };
}

}  // namespace

TEST_CASE("bad inputs across every parser: exit code, one line, nothing left behind", "[cli][issue18]") {
  for (const Case& c : cases()) {
    psy::test::TempDir tmp;
    for (const auto& [name, content] : c.files) {
      fs::create_directories(fs::path(tmp.file(name)).parent_path());
      psy::test::write_file(tmp.file(name), content);
    }
    const auto before = psy::test::temporary_files_under(tmp.path());
    auto r = run_psy(expand(c.args, tmp.path()));
    INFO(c.name << "\n  psy " << expand(c.args, tmp.path()) << "\n  stderr: " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(line_count(r.err) == 1);
    CHECK_THAT(r.err, Catch::StartsWith("psy: error: ") && Catch::Contains(c.contains));
    CHECK_THAT(r.err, !Catch::Contains("Exception raised from") && !Catch::Contains("frame #"));
    CHECK(psy::test::temporary_files_under(tmp.path()) == before);
    for (const char* output : {"split", "model", "m.json", "l.safetensors", "g.jsonl"}) CHECK_FALSE(fs::exists(tmp.file(output)));
  }
}

TEST_CASE("LibTorch failures are one line naming the operation; PSY_DEBUG=1 shows the trace", "[cli][issue18]") {
  // CUDA asked of a build or machine without it: LibTorch's own error, 20+ lines with its trace.
  psy::test::TempDir tmp;
  psy::test::write_file(tmp.file("ids.json"), "{\"input_ids\": [[1, 2, 3]]}");
  const std::string args = "logits --model " + psy::test::tiny_model_dir() + " --input " + tmp.file("ids.json") +
                           " --out " + tmp.file("l.safetensors") + " --device cuda";
  auto r = run_psy(args);
  if (r.exit_code == 0) {
    std::cerr << "SKIPPED: CUDA works here, so --device cuda is no LibTorch failure\n";
    return;
  }
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(line_count(r.err) == 1);
  CHECK_THAT(r.err, Catch::StartsWith("psy: error: psy logits --model") && Catch::Contains("LibTorch failed"));
  CHECK_FALSE(fs::exists(tmp.file("l.safetensors")));
  const std::string with_env = std::string("PSY_DEBUG=1 '") + PSY_EXE + "' " + args + " 2>" + tmp.file("err") + " >/dev/null";
  CHECK(std::system(with_env.c_str()) != 0);
  CHECK(line_count(psy::test::read_file(tmp.file("err"))) > 1);
}
