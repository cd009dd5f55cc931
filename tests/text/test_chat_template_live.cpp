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
#include "libpsy/text/jinja_chat_render.h"
#include "libpsy/text/jinja_chat_template.h"
#include "libpsy/text/segment_encoder.h"
#include "libpsy/text/tokenizer.h"
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
  const std::vector<Job> folders = jobs;
  auto original = [&](const std::string& file, const std::string& rel) {
    std::string dir = psy::test::reference_path(rel);
    if (dir.empty()) return;
    const std::string text = psy::read_text_file(trl + "/" + file);
    for (const Job& f : folders)  // a folder that ships this very template already covers it
      if (psy::JinjaChatTemplate::find(f.model_dir)->source() == text) {
        std::cout << "chat template trl/" << file << ": the same text as " << f.name << "'s\n";
        return;
      }
    jobs.push_back({"trl/" + file, dir, trl + "/" + file});
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

// Ids are compared on every kIdsStride-th conversation (strings on all), to keep the test fast.
constexpr int kIdsStride = 4;

// A conversation as psy's chat messages: each message one part.
std::vector<psy::ChatMessage> chat_messages(const std::vector<psy::TemplateMessage>& conv, bool generation_prompt) {
  std::vector<psy::ChatMessage> out;
  for (const auto& m : conv) {
    psy::ChatMessage c;
    c.role = m.role == "system" ? psy::ChatRole::System : m.role == "user" ? psy::ChatRole::User : psy::ChatRole::Assistant;
    c.parts.push_back({m.content, m.role == "assistant" ? "response" : "client", m.role == "assistant"});
    out.push_back(std::move(c));
  }
  if (generation_prompt) out.push_back({psy::ChatRole::Assistant, {}, true});
  return out;
}

// Ids: `psy tokenize --chat` must give apply_chat_template(tokenize=True)'s ids; psy's own
// segment-wise encoding (training and prompts) is compared and reported.
void compare_ids(const Job& job, const psy::JinjaChatTemplate& t, const std::vector<std::vector<psy::TemplateMessage>>& convs,
                 const nlohmann::json& want, const psy::test::TempDir& tmp) {
  psy::Tokenizer tok = psy::Tokenizer::load(job.model_dir);
  size_t segment_same = 0, total = 0;
  for (size_t i = 0; i < convs.size(); ++i) {
    for (int agp = 0; agp < 2; ++agp) {
      if (want[i][agp].is_null()) continue;
      ++total;
      psy::SegmentEncoder enc(tok);
      std::vector<int32_t> ids;
      std::vector<psy::TokenRange> ranges;
      try {
        enc.encode(psy::render_chat_jinja(t, chat_messages(convs[i], agp == 1), tok), ids, ranges);
      } catch (const psy::Error& e) {
        FAIL(job.name << " conversation " << i << ": " << e.what());
      }
      if (want[i][agp] == nlohmann::json(ids)) ++segment_same;
    }
  }
  std::cout << "chat template " << job.name << ": psy's segment-wise ids equal apply_chat_template(tokenize=True) for "
            << segment_same << " of " << total << " renders\n";

  psy::test::RunResult help = psy::test::run_psy("tokenize --help");
  if (help.exit_code != 0 || help.out.find("--chat") == std::string::npos) {
    std::cout << "SKIPPED psy tokenize --chat ids (psy not built with it)\n";
    return;
  }
  std::string lines;
  for (size_t i = 0; i < convs.size(); i += kIdsStride)
    lines += nlohmann::json({{"messages", psy::test::messages_json(convs[i])}}).dump() + "\n";
  psy::test::write_file(tmp.file("chats.jsonl"), lines);
  // Each psy start loads the tokenizer (~2 s of CPU): --add-generation-prompt is run for one family.
  const int modes = job.name == "qwen3" ? 2 : 1;
  for (int agp = 0; agp < modes; ++agp) {
    auto r = psy::test::run_psy("tokenize --model " + psy::test::shell_quote(job.model_dir) + " --chat --json --input " +
                                psy::test::shell_quote(tmp.file("chats.jsonl")) + (agp ? " --add-generation-prompt" : ""));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    size_t same = 0, n = 0, pos = 0;
    for (size_t i = 0; i < convs.size(); i += kIdsStride) {
      const size_t nl = r.out.find('\n', pos);
      const nlohmann::json row = nlohmann::json::parse(r.out.substr(pos, nl - pos));
      pos = nl + 1;
      if (want[i][agp].is_null()) continue;
      ++n;
      if (row["ids"] == want[i][agp]) ++same;
    }
    std::cout << "psy tokenize --chat " << job.name << (agp ? " --add-generation-prompt" : "") << ": ids identical for "
              << same << " of " << n << "\n";
    CHECK(same == n);
  }
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
                            {"template_file", j.template_file.empty() ? nlohmann::json() : nlohmann::json(j.template_file)},
                            {"ids_stride", j.template_file.empty() ? kIdsStride : 0}});
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
    if (job.template_file.empty()) compare_ids(job, t, convs, out["jobs"][job.name]["ids"], tmp);
  }
}
