// psy's sentence encoder: the sentence-transformers layout (modules.json, pooling, Normalize),
// one-line refusals of folders it cannot run, and -- live, against sentence-transformers itself
// -- all-MiniLM-L6-v2 embeddings of 200 English and 200 Chinese Psy-Insight texts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "eval/bertscore/sentence_encoder.h"
#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/data/load_sessions.h"
#include "tests/retrieval/tiny_sentence_encoder.h"
#include "tests/test_support.h"

using namespace psy;
using psy::eval::SentenceEncoder;

namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// 150 turn contents and 50 backgrounds, evenly spaced through the file (long backgrounds
// exercise truncation to max_seq_length).
std::vector<std::string> psy_insight_texts(const std::string& path) {
  const auto sessions = load_sessions(path).sessions;
  std::vector<std::string> turns, backgrounds, out;
  for (const auto& s : sessions) {
    if (!s.background.empty()) backgrounds.push_back(s.background);
    for (const auto& t : s.turns)
      if (!t.content.empty()) turns.push_back(t.content);
  }
  for (size_t i = 0; i < 150; ++i) out.push_back(turns[i * turns.size() / 150]);
  for (size_t i = 0; i < 50; ++i) out.push_back(backgrounds[i * backgrounds.size() / 50]);
  return out;
}

}  // namespace

TEST_CASE("the tiny sentence encoder follows its modules: mean pooling, Normalize, max_seq_length", "[sentence_encoder]") {
  test::TempDir dir;
  const std::string enc_dir = test::write_tiny_sentence_encoder(dir.file("enc"));
  const auto layout = eval::read_sentence_encoder_layout(enc_dir);
  CHECK(layout.pooling == eval::SentencePooling::Mean);
  CHECK(layout.normalize);
  CHECK(layout.max_seq_length == 128);
  SentenceEncoder enc(enc_dir, 2);
  const std::vector<std::string> texts = {"I cannot sleep at night.", "my boss shouts at me", "",
                                          std::string(2000, ' ').replace(0, 1, "long") + [] {
                                            std::string words;
                                            for (int i = 0; i < 300; ++i) words += "word ";
                                            return words;
                                          }()};
  const auto batch = enc.encode(texts);
  REQUIRE(batch.size() == 4);
  CHECK(enc.truncated() == 1);
  for (size_t i = 0; i < texts.size(); ++i) {
    double n = 0;
    for (float x : batch[i]) n += static_cast<double>(x) * x;
    CHECK(std::sqrt(n) == Approx(1.0).margin(1e-5));
    const auto one = enc.encode({texts[i]});  // padding in a batch changes nothing
    CHECK(cosine(one[0], batch[i]) > 0.999999);
  }
  CHECK(cosine(batch[0], batch[1]) < 0.9999);
  const std::string fp = eval::sentence_encoder_fingerprint(layout);
  CHECK(fp.size() == 16);
  CHECK(fp == eval::sentence_encoder_fingerprint(eval::read_sentence_encoder_layout(enc_dir)));
  test::write_file(enc_dir + "/sentence_bert_config.json", "{\"max_seq_length\": 64}");
  CHECK(fp != eval::sentence_encoder_fingerprint(eval::read_sentence_encoder_layout(enc_dir)));
}

TEST_CASE("folders that are not BERT-family sentence encoders are refused in one line", "[sentence_encoder][errors]") {
  test::TempDir dir;
  auto message = [](const std::string& d) {
    try {
      eval::read_sentence_encoder_layout(d);
    } catch (const Error& e) {
      CHECK(e.exit_code() == 2);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(message(dir.file("absent")), Catch::Contains("no such folder") && Catch::Contains("BERT-family"));
  make_dirs(dir.file("empty"));
  CHECK_THAT(message(dir.file("empty")), Catch::Contains("config.json") && Catch::Contains("no config.json"));
  make_dirs(dir.file("llama"));
  test::write_file(dir.file("llama/config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 16}");
  CHECK_THAT(message(dir.file("llama")), Catch::Contains("model_type") && Catch::Contains("bert, roberta") &&
                                             Catch::Contains("\"llama\""));
  const std::string enc = test::write_tiny_sentence_encoder(dir.file("dense"));
  test::write_file(enc + "/modules.json",
                   "[{\"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                   " {\"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]");
  CHECK_THAT(message(enc), Catch::Contains("modules.json") && Catch::Contains("Dense"));
  const std::string two = test::write_tiny_sentence_encoder(dir.file("two"));
  test::write_file(two + "/1_Pooling/config.json", "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}");
  CHECK_THAT(message(two), Catch::Contains("exactly one pooling mode"));
  CHECK(std::string(message(test::write_tiny_sentence_encoder(dir.file("ok")))) == "no error");
}

TEST_CASE("all-MiniLM-L6-v2 embeddings match sentence-transformers (live)", "[sentence_encoder][live]") {
  const std::string model = test::reference_path("models/all-minilm-l6-v2");
  if (model.empty()) return;
  const std::string en = test::shared_path("data/psy-insight/en_data_version7.json");
  const std::string zh = test::shared_path("data/psy-insight/cn_data_version7.json");
  if (en.empty() || zh.empty()) return;
  SentenceEncoder enc(model);
  const auto layout = enc.layout();
  CHECK(layout.pooling == eval::SentencePooling::Mean);
  CHECK(layout.normalize);
  CHECK(layout.max_seq_length == 256);
  // Both languages in one Python process (its start-up dominates the test's time).
  std::vector<std::string> texts = psy_insight_texts(en);
  const auto zh_texts = psy_insight_texts(zh);
  texts.insert(texts.end(), zh_texts.begin(), zh_texts.end());
  REQUIRE(texts.size() == 400);
  test::TempDir dir;
  test::write_file(dir.file("texts.json"), nlohmann::json(texts).dump());
  const auto r = test::run_reference_python("tests/reference/st_embeddings.py",
                                            test::shell_quote(model) + " " + test::shell_quote(dir.file("texts.json")) +
                                                " " + test::shell_quote(dir.file("out.json")));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto ref = nlohmann::json::parse(test::read_file(dir.file("out.json")));
  const auto ours = enc.encode(texts);
  for (size_t half = 0; half < 2; ++half) {
    double worst = 1.0;
    size_t worst_i = 0;
    for (size_t i = half * 200; i < half * 200 + 200; ++i) {
      const double c = cosine(ours[i], ref["embeddings"][i].get<std::vector<float>>());
      if (c < worst) worst = c, worst_i = i;
    }
    std::cout << std::setprecision(10) << "all-MiniLM-L6-v2 " << (half ? "zh" : "en")
              << ": min cosine vs sentence-transformers " << ref["sentence_transformers"] << " over 200 texts: " << worst
              << " (text " << worst_i << "); " << enc.truncated() << " of 400 texts truncated to 256 tokens\n";
    INFO("text " << worst_i << ": " << texts[worst_i]);
    CHECK(worst >= 0.99999);
  }
}
