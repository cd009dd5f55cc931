// Live: psy renders every family's real chat template byte-identical to transformers'
// apply_chat_template, on every Psy-Insight session (English and Chinese) as a conversation,
// with and without add_generation_prompt. One Python call renders everything
// (tests/reference/hf_chat_template.py). Skips with a message when .reference/ or ../shared is
// absent.
#include <catch2/catch.hpp>

#include <iostream>
#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/text/jinja_chat_template.h"
#include "tests/test_support.h"
#include "tests/text/live_conversations.h"

namespace {

struct Job {
  std::string name, model_dir, template_file;
};

// The families' real templates: each folder's own, and the originals TRL keeps.
std::vector<Job> live_jobs() {
  std::vector<Job> jobs;
  auto folder = [&](const std::string& name, const std::string& rel) {
    std::string dir = psy::test::reference_path(rel);
    if (!dir.empty() && psy::JinjaChatTemplate::find(dir)) jobs.push_back({name, dir, ""});
    else if (!dir.empty()) std::cout << "SKIPPED " << name << ": " << dir << " has no chat template\n";
  };
  folder("smollm2", "models/smollm2-135m-instruct");
  folder("qwen2.5", "models/tokenizers/qwen2.5");
  folder("qwen3", "models/tokenizers/qwen3");
  folder("llama3", "models/tokenizers/llama3");
  folder("mistral-v0.3", "models/tokenizers/mistral-v0.3");
  folder("glm4", "models/tokenizers/glm4");
  const std::string trl = psy::test::reference_path("venv/lib/python3.11/site-packages/trl/chat_templates");
  if (trl.empty()) return jobs;
  auto original = [&](const std::string& file, const std::string& rel) {
    std::string dir = psy::test::reference_path(rel);
    if (!dir.empty()) jobs.push_back({"trl/" + file, dir, trl + "/" + file});
  };
  original("qwen2_5.jinja", "models/tokenizers/qwen2.5");
  original("qwen3.jinja", "models/tokenizers/qwen3");
  original("qwen3_training.jinja", "models/tokenizers/qwen3");
  original("llama3.jinja", "models/tokenizers/llama3");
  original("llama3_1.jinja", "models/tokenizers/llama3");
  original("llama3_2.jinja", "models/tokenizers/llama3");
  original("glm4moe.jinja", "models/tokenizers/glm4");
  return jobs;
}

psy::JinjaChatTemplate load_job(const Job& job) {
  psy::JinjaChatTemplate own = *psy::JinjaChatTemplate::find(job.model_dir);
  if (job.template_file.empty()) return own;
  return psy::JinjaChatTemplate::from_source(psy::read_text_file(job.template_file), job.template_file,
                                             own.special_tokens(), own.added_tokens());
}

}  // namespace

TEST_CASE("chat templates render byte-identical to transformers on every Psy-Insight session",
          "[chat][jinja][live]") {
  const std::string en = psy::test::shared_path("data/psy-insight/en_data_version7.json");
  const std::string cn = psy::test::shared_path("data/psy-insight/cn_data_version7.json");
  if (en.empty() || cn.empty()) return;
  if (psy::test::reference_python().empty()) return;
  std::vector<Job> jobs = live_jobs();
  if (jobs.empty()) return;

  std::vector<std::vector<psy::TemplateMessage>> convs;
  for (const std::string& path : {en, cn})
    for (const auto& s : psy::load_sessions(path).sessions) convs.push_back(psy::test::session_conversation(s));
  REQUIRE(convs.size() == 520 + 431);

  psy::test::TempDir tmp;
  nlohmann::json spec;
  spec["conversations"] = nlohmann::json::array();
  for (const auto& c : convs) spec["conversations"].push_back(psy::test::messages_json(c));
  for (const auto& j : jobs)
    spec["jobs"].push_back({{"name", j.name}, {"model_dir", j.model_dir},
                            {"template_file", j.template_file.empty() ? nlohmann::json() : nlohmann::json(j.template_file)}});
  psy::test::write_file(tmp.file("jobs.json"), spec.dump());
  auto r = psy::test::run_reference_python("tests/reference/hf_chat_template.py",
                                           psy::test::shell_quote(tmp.file("jobs.json")) + " " +
                                               psy::test::shell_quote(tmp.file("out.json")));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json out = nlohmann::json::parse(psy::test::read_file(tmp.file("out.json")));

  for (const auto& job : jobs) {
    const psy::JinjaChatTemplate t = load_job(job);
    const auto& texts = out["jobs"][job.name]["texts"];
    REQUIRE(texts.size() == convs.size());
    size_t identical = 0, both_raised = 0, differ = 0;
    std::string first_difference;
    for (size_t i = 0; i < convs.size(); ++i) {
      for (int agp = 0; agp < 2; ++agp) {
        const nlohmann::json& want = texts[i][agp];
        std::string got, error;
        try {
          got = t.render(convs[i], agp == 1);
        } catch (const psy::Error& e) {
          error = e.what();
        }
        if (want.is_object()) {
          if (!error.empty()) ++both_raised;
          else if (++differ == 1) first_difference = "conversation " + std::to_string(i) + ": transformers raised " +
                                                     want["error"].get<std::string>() + ", psy rendered";
          continue;
        }
        if (error.empty() && got == want.get<std::string>()) {
          ++identical;
        } else if (++differ == 1) {
          const std::string w = want.get<std::string>();
          size_t k = 0;
          while (k < got.size() && k < w.size() && got[k] == w[k]) ++k;
          first_difference = "conversation " + std::to_string(i) + (agp ? " (generation prompt)" : "") +
                             ": first difference at byte " + std::to_string(k) + ": psy \"" +
                             got.substr(k > 20 ? k - 20 : 0, 60) + "\" vs transformers \"" +
                             w.substr(k > 20 ? k - 20 : 0, 60) + "\"" + (error.empty() ? "" : " (psy: " + error + ")");
        }
      }
    }
    std::cout << "chat template " << job.name << ": " << identical << " of " << 2 * convs.size()
              << " renders byte-identical to transformers " << out["transformers"].get<std::string>()
              << (both_raised ? ", " + std::to_string(both_raised) + " raised in both" : "") << "\n";
    INFO(job.name << ": " << first_difference);
    CHECK(differ == 0);
    CHECK(identical > 0);
  }
}
