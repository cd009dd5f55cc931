// BERTScore encoders and scores against ../shared/golden/bertscore (bert_score's algorithm on
// tiny random RoBERTa / BERT encoders).
#include "tests/io/torch_catch.h"  // LibTorch first, then Catch (keeps Catch's CHECK)
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "eval/bertscore/bert_scorer.h"
#include "eval/bertscore/bertscore_metric.h"
#include "eval/bertscore/encoder_config.h"
#include "eval/bertscore/idf_weights.h"
#include "eval/bertscore/rescale_baseline.h"
#include "eval/bertscore/transformer_encoder.h"
#include "libpsy/core/error.h"
#include "libpsy/io/safetensors.h"
#include "tests/test_support.h"

using namespace psy::eval;

namespace {

std::vector<nlohmann::json> read_pairs(const std::string& dir, const std::string& group) {
  std::ifstream in(dir + "/pairs.jsonl");
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["group"] == group) out.push_back(std::move(j));
  }
  return out;
}

const char* model_dir_of(const std::string& group) { return group == "en" ? "/models/roberta-tiny" : "/models/bert-tiny-chinese"; }
const char* alt_dir_of(const std::string& group) { return group == "en" ? "/models/roberta-tiny-mlm" : "/models/bert-tiny-chinese-mlm"; }
const char* baseline_of(const std::string& group) {
  return group == "en" ? "/rescale_baseline/en/roberta-tiny.tsv" : "/rescale_baseline/zh/bert-tiny-chinese.tsv";
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("encoder hidden states match the golden embeddings", "[bertscore][encoder][golden]") {
  const std::string dir = psy::test::shared_path("golden/bertscore");
  if (dir.empty()) return;
  psy::SafetensorsReader golden(dir + "/embeddings.safetensors");
  const auto manifest = nlohmann::json::parse(psy::test::read_file(dir + "/manifest.json"));
  double worst_hidden = 0, worst_cos = 0, worst_padded = 0, worst_alt = 0;
  for (const std::string group : {"en", "zh"}) {
    TransformerEncoder enc(dir + model_dir_of(group), -1, torch::kCPU);
    TransformerEncoder alt(dir + alt_dir_of(group), -1, torch::kCPU);
    REQUIRE(enc.num_layers() == (group == "en" ? 4 : 3));
    for (const auto& id : manifest["groups"][group]["embedding_pairs"]) {
      const std::string pid = id.get<std::string>();
      std::map<std::string, torch::Tensor> layer3;
      std::map<std::string, torch::Tensor> ids_of;
      for (const std::string side : {"hyp", "ref"}) {
        INFO(pid << " " << side);
        const std::string key = pid + "." + side;
        const auto ids = golden.load(key + ".input_ids").unsqueeze(0);
        const auto mask = torch::ones_like(ids);
        const auto states = enc.all_hidden_states(ids, mask);
        const auto alt_states = alt.all_hidden_states(ids, mask);
        REQUIRE(static_cast<int64_t>(states.size()) == enc.num_layers() + 1);
        for (size_t k = 0; k < states.size(); ++k) {
          const double d = max_abs_diff(states[k][0], golden.load(key + ".hidden_states." + std::to_string(k)));
          CHECK(d < 1e-4);
          worst_hidden = std::max(worst_hidden, d);
          worst_alt = std::max(worst_alt, max_abs_diff(states[k], alt_states[k]));
        }
        layer3[side] = states[3][0];
        ids_of[side] = ids[0];
      }
      const auto cos = torch::mm(normalize_rows(layer3["hyp"]), normalize_rows(layer3["ref"]).t());
      const double dc = max_abs_diff(cos, golden.load(pid + ".cosine_layer3"));
      CHECK(dc < 1e-5);
      worst_cos = std::max(worst_cos, dc);

      // Padded together in one batch, each sequence still gets its unpadded layer-3 output.
      const int64_t th = ids_of["hyp"].size(0), tr = ids_of["ref"].size(0), t = std::max(th, tr);
      const int64_t pad = enc.config().pad_token_id;
      auto batch = torch::full({2, t}, pad, torch::kInt64);
      auto mask = torch::zeros({2, t}, torch::kInt64);
      batch[0].narrow(0, 0, th).copy_(ids_of["hyp"]);
      batch[1].narrow(0, 0, tr).copy_(ids_of["ref"]);
      mask[0].narrow(0, 0, th).fill_(1);
      mask[1].narrow(0, 0, tr).fill_(1);
      TransformerEncoder three(dir + model_dir_of(group), 3, torch::kCPU);
      const auto out = three.forward(batch, mask);
      worst_padded = std::max(worst_padded, max_abs_diff(out[0].narrow(0, 0, th), layer3["hyp"]));
      worst_padded = std::max(worst_padded, max_abs_diff(out[1].narrow(0, 0, tr), layer3["ref"]));
    }
  }
  CHECK(worst_padded < 1e-5);
  CHECK(worst_alt == 0.0);
  WARN("max abs diff: hidden states " << worst_hidden << ", cosine " << worst_cos << ", padded vs alone " << worst_padded
                                      << ", prefixed checkpoint " << worst_alt);
}

TEST_CASE("idf weights equal bert_score's", "[bertscore][idf][golden]") {
  const std::string dir = psy::test::shared_path("golden/bertscore");
  if (dir.empty()) return;
  for (const std::string group : {"en", "zh"}) {
    const auto golden = nlohmann::json::parse(psy::test::read_file(dir + "/idf_" + group + ".json"));
    std::vector<std::vector<int64_t>> refs;
    for (const auto& p : read_pairs(dir, group)) refs.push_back(p["ref_ids"].get<std::vector<int64_t>>());
    const int64_t cls = group == "en" ? 0 : 101, sep = group == "en" ? 2 : 102;
    const auto idf = compute_idf(refs, cls, sep);
    CHECK(idf.num_docs == golden["num_docs"].get<size_t>());
    CHECK(idf.default_weight == Approx(golden["default"].get<double>()).epsilon(1e-12));
    CHECK(idf.idf.size() == golden["idf"].size());
    for (auto it = golden["idf"].begin(); it != golden["idf"].end(); ++it) {
      INFO(group << " id " << it.key());
      CHECK(idf.weight(std::stoll(it.key())) == Approx(it.value().get<double>()).epsilon(1e-9).margin(1e-12));
    }
  }
}

TEST_CASE("BERTScore P/R/F match bert_score with idf off/on and rescaling", "[bertscore][score][golden]") {
  const std::string dir = psy::test::shared_path("golden/bertscore");
  if (dir.empty()) return;
  double worst[4] = {0, 0, 0, 0};
  const char* names[4] = {"no_idf", "idf", "no_idf_rescaled", "idf_rescaled"};
  for (const std::string group : {"en", "zh"}) {
    const auto pairs = read_pairs(dir, group);
    std::vector<std::string> hyps, refs;
    for (const auto& p : pairs) {
      hyps.push_back(p["hyp"].get<std::string>());
      refs.push_back(p["ref"].get<std::string>());
    }
    for (int variant = 0; variant < 4; ++variant) {
      BertScoreOptions o;
      o.model_dir = dir + model_dir_of(group);
      o.num_layers = 3;
      o.idf = variant % 2 == 1;
      if (variant >= 2) o.baseline_path = dir + baseline_of(group);
      o.batch_size = 16;  // several padded batches
      BertScorer scorer(o);
      const auto s = scorer.score(hyps, refs);
      REQUIRE(s.precision.size() == pairs.size());
      const double tol = variant >= 2 ? 3e-5 : 1e-5;
      for (size_t i = 0; i < pairs.size(); ++i) {
        const auto& g = pairs[i]["scores"][names[variant]];
        INFO(pairs[i]["id"].get<std::string>() << " " << names[variant]);
        const double got[3] = {s.precision[i], s.recall[i], s.f1[i]};
        const double want[3] = {g["P"].get<double>(), g["R"].get<double>(), g["F"].get<double>()};
        for (int k = 0; k < 3; ++k) {
          CHECK(std::abs(got[k] - want[k]) < tol);
          worst[variant] = std::max(worst[variant], std::abs(got[k] - want[k]));
        }
        if (variant < 2 && pairs[i]["hyp_ids"].size() == 2) CHECK(got[2] == 0.0);
      }
      CHECK(s.empty_pairs == (group == "en" ? 4u : 3u));
    }
  }
  WARN("max abs diff P/R/F: no_idf " << worst[0] << ", idf " << worst[1] << ", no_idf_rescaled " << worst[2]
                                     << ", idf_rescaled " << worst[3]);
}

TEST_CASE("BertScorer reuses reference embeddings and scores bf16 close to fp32", "[bertscore][score][golden]") {
  const std::string dir = psy::test::shared_path("golden/bertscore");
  if (dir.empty()) return;
  const auto pairs = read_pairs(dir, "en");
  std::vector<std::string> hyps, refs;
  for (size_t i = 0; i < 20; ++i) {
    hyps.push_back(pairs[i]["hyp"].get<std::string>());
    refs.push_back(pairs[i]["ref"].get<std::string>());
  }
  BertScoreOptions o;
  o.model_dir = dir + "/models/roberta-tiny-mlm";
  o.num_layers = 3;
  BertScorer scorer(o);
  const auto first = scorer.score(hyps, refs);
  // A second system against the same references: the swapped order must not matter.
  std::vector<std::string> hyps2(hyps.rbegin(), hyps.rend()), refs2(refs.rbegin(), refs.rend());
  const auto second = scorer.score(hyps2, refs2);
  for (size_t i = 0; i < hyps.size(); ++i) CHECK(second.f1[hyps.size() - 1 - i] == Approx(first.f1[i]).margin(1e-6));

  o.dtype = "bf16";
  BertScorer bf16(o);
  const auto low = bf16.score(hyps, refs);
  for (size_t i = 0; i < hyps.size(); ++i) CHECK(low.f1[i] == Approx(first.f1[i]).margin(0.02));
}

TEST_CASE("BERTScore reports bad inputs clearly", "[bertscore][errors]") {
  psy::test::TempDir tmp;
  CHECK_THROWS_WITH(BertScorer(BertScoreOptions{}), Catch::Contains("needs a model folder"));
  BertScoreOptions o;
  o.model_dir = tmp.path();
  CHECK_THROWS_WITH(BertScorer(o), Catch::Contains("config.json is missing"));
  psy::test::write_file(tmp.file("baseline.tsv"), "LAYER,P,R,F\n0,0.1,0.2,0.3\n1,0.4,x,0.6\n");
  CHECK(read_rescale_baseline(tmp.file("baseline.tsv"), 0).f == Approx(0.3f));
  CHECK_THROWS_WITH(read_rescale_baseline(tmp.file("baseline.tsv"), 1), Catch::Contains("field 'R'"));
  CHECK_THROWS_WITH(read_rescale_baseline(tmp.file("baseline.tsv"), 2), Catch::Contains("no baseline row for layer 2"));
  psy::test::write_file(tmp.file("config.json"), R"({"model_type": "gpt2", "hidden_size": 8})");
  CHECK_THROWS_WITH(read_encoder_config(tmp.file("config.json")), Catch::Contains("model_type"));
  CHECK_THROWS_WITH(parse_encoder_dtype("int8"), Catch::Contains("fp32, bf16 or fp16"));

  // psy score's hook: nothing is loaded without a bertscore_* metric; a missing model names the option.
  CHECK_FALSE(bertscore_metric_for(BertScoreRequest{}, "en", {"bleu1", "meteor"}).has_value());
  CHECK_THROWS_WITH(bertscore_metric_for(BertScoreRequest{}, "en", {"bertscore_p"}),
                    Catch::Contains("--bertscore-model") && Catch::Contains("roberta-large") && Catch::Contains("17"));
  CHECK_THROWS_WITH(bertscore_metric_for(BertScoreRequest{}, "zh", {"bertscore_f"}),
                    Catch::Contains("bert-base-chinese") && Catch::Contains("8"));
  CHECK(bertscore_known_layer("/models/roberta-large/") == 17);
  CHECK(bertscore_known_layer("my-model") == -1);

  const std::string dir = psy::test::shared_path("golden/bertscore");
  if (dir.empty()) return;
  CHECK_THROWS_WITH(TransformerEncoder(dir + "/models/roberta-tiny", 3, torch::kCPU, torch::kFloat16), Catch::Contains("fp16"));
  CHECK_THROWS_WITH(TransformerEncoder(dir + "/models/roberta-tiny", 5, torch::kCPU), Catch::Contains("at most 4"));
  BertScoreRequest r;
  r.model_dir = dir + "/models/roberta-tiny";
  r.layer = "three";
  CHECK_THROWS_WITH(bertscore_metric_for(r, "en", {"bertscore_f"}), Catch::Contains("--bertscore-layer"));
  r.layer = "3";
  const auto hook = bertscore_metric_for(r, "en", {"bertscore_f", "bleu1", "bertscore_p"});
  REQUIRE(hook.has_value());
  CHECK(hook->names == std::vector<std::string>{"bertscore_f", "bertscore_p"});
  const auto rows = hook->score_batch({"I hear you.", ""}, {"I hear you.", "Tell me more."});
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][0] == Approx(1.0).margin(1e-6));
  CHECK(rows[1][0] == 0.0);
}

TEST_CASE("psy score computes bertscore_p/r/f with the golden values", "[bertscore][cli][golden]") {
  const std::string dir = psy::test::shared_path("golden/bertscore");
  if (dir.empty()) return;
  const auto pairs = read_pairs(dir, "zh");
  psy::test::TempDir tmp;
  std::string pred;
  for (size_t i = 0; i < 6; ++i)
    pred += nlohmann::json({{"id", pairs[i]["id"]}, {"hyp", pairs[i]["hyp"]}, {"ref", pairs[i]["ref"]}}).dump() + "\n";
  psy::test::write_file(tmp.file("pred.jsonl"), pred);
  const auto r = psy::test::run_psy("score --lang zh --bootstrap 0 --metrics bertscore_p,bertscore_r,bertscore_f --pred '" +
                                    tmp.file("pred.jsonl") + "' --bertscore-model '" + dir +
                                    "/models/bert-tiny-chinese-mlm' --bertscore-layer 3 --per-example '" + tmp.file("per.jsonl") + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("bertscore_p|model:bert-tiny-chinese-mlm|L:3|idf:no|rescaled:no") != std::string::npos);
  std::istringstream lines(psy::test::read_file(tmp.file("per.jsonl")));
  std::string line;
  size_t i = 0;
  for (; std::getline(lines, line); ++i) {
    const auto j = nlohmann::json::parse(line);
    const auto& g = pairs[i]["scores"]["no_idf"];
    CHECK(j["id"] == pairs[i]["id"]);
    CHECK(std::abs(j["bertscore_p"].get<double>() - g["P"].get<double>()) < 1e-5);
    CHECK(std::abs(j["bertscore_r"].get<double>() - g["R"].get<double>()) < 1e-5);
    CHECK(std::abs(j["bertscore_f"].get<double>() - g["F"].get<double>()) < 1e-5);
  }
  CHECK(i == 6);

  const auto missing = psy::test::run_psy("score --bootstrap 0 --metrics bertscore_f --pred '" + tmp.file("pred.jsonl") + "'");
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--bertscore-model") != std::string::npos);
}
