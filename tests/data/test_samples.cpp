// Chain-of-thought samples on the project's sample data, tokenised with a tiny SentencePiece
// model trained at test time.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "libpsy/core/error.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/data/sample_export.h"
#include "libpsy/recipe/recipe.h"
#include "tests/test_support.h"
#include "tests/text/tiny_tokenizer.h"

using namespace psy;

namespace {

const std::vector<Session>& en_sessions() {
  static const auto s = load_sessions(test::sample_en_path()).sessions;
  return s;
}
const std::vector<Session>& zh_sessions() {
  static const auto s = load_sessions(test::sample_zh_path()).sessions;
  return s;
}
const Session& en_session(const std::string& id) {
  for (const auto& s : en_sessions())
    if (s.dialog_id == id) return s;
  throw std::runtime_error("no session " + id);
}

std::string concat(const TokenizedSample& s) {
  std::string out;
  for (const auto& g : s.segments) out += g.text;
  return out;
}

std::string target_text(const TokenizedSample& s) {
  std::string out;
  for (const auto& g : s.segments)
    if (g.target && g.section != "eos") out += g.text;
  return out;
}

// The invariants every sample must satisfy (one CHECK per property, to keep output readable).
void check_sample(const TokenizedSample& s, const SampleOptions& o, const Tokenizer& tok) {
  INFO("session " << s.session_id << " turn " << s.turn_id << " task " << s.task);
  REQUIRE(!s.input_ids.empty());
  REQUIRE(s.loss_weights.size() == s.input_ids.size());
  CHECK(s.input_ids.size() <= static_cast<size_t>(o.max_seq_len));
  CHECK(s.loss_weights[0] == 0.0f);
  CHECK(tok.decode(s.input_ids) == concat(s));
  const std::vector<int32_t> anchor = tok.encode("A", true);
  uint32_t expect_begin = 0;
  bool any_target = false, contiguous = true, weights_ok = true, controls_ok = true;
  bool after_control = true;
  for (const auto& g : s.segments) {
    contiguous &= g.begin == expect_begin;
    expect_begin = g.end;
    // Every segment owns exactly its tokens (text continuing a chunk is decoded after an anchor).
    std::vector<int32_t> ids(s.input_ids.begin() + g.begin, s.input_ids.begin() + g.end);
    const bool control = g.section == "bos" || g.section == "eos" || g.section == "control";
    if (!control && !after_control) {
      ids.insert(ids.begin(), anchor.begin(), anchor.end());
      CHECK(tok.decode(ids) == "A" + g.text);
    } else {
      CHECK(tok.decode(ids) == g.text);
    }
    if (!g.text.empty()) after_control = control;
    float want = o.prompt_loss_weight;
    if (g.target) {
      any_target = true;
      auto it = o.section_weights.find(g.section);
      want = it == o.section_weights.end() ? 1.0f : static_cast<float>(it->second);
    }
    weights_ok &= g.weight == want;
    for (uint32_t j = std::max<uint32_t>(g.begin, 1); j < g.end; ++j) weights_ok &= s.loss_weights[j] == want;
    // Control tokens only where the template put them.
    if (control) {
      controls_ok &= g.end - g.begin == 1 && tok.is_special(s.input_ids[g.begin]);
    } else {
      for (uint32_t j = g.begin; j < g.end; ++j) controls_ok &= !tok.is_special(s.input_ids[j]);
    }
  }
  CHECK(contiguous);
  CHECK(weights_ok);
  CHECK(controls_ok);
  CHECK(expect_begin == s.input_ids.size());
  CHECK(any_target);
}

SampleOptions options(SampleTask task, SampleUnit unit, ChatTemplate tmpl = ChatTemplate::Mistral) {
  SampleOptions o;
  o.task = task;
  o.unit = unit;
  o.chat_template = tmpl;
  o.prompt_loss_weight = 0.1f;
  o.max_seq_len = 100000;
  return o;
}

size_t therapist_turns(const std::vector<Session>& ss) {
  size_t n = 0;
  for (const auto& s : ss)
    for (const auto& t : s.turns) n += t.is_therapist() && !t.content.empty();
  return n;
}

}  // namespace

TEST_CASE("every task, unit and template gives aligned weights and decodable ids", "[samples]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  for (SampleTask task : {SampleTask::Dialog, SampleTask::ReasoningDialog, SampleTask::ObservationReasoningDialog,
                          SampleTask::Mix}) {
    for (SampleUnit unit : {SampleUnit::Turn, SampleUnit::Session}) {
      for (ChatTemplate tmpl : {ChatTemplate::Mistral, ChatTemplate::Llama2, ChatTemplate::Chatml, ChatTemplate::Plain}) {
        SampleOptions o = options(task, unit, tmpl);
        o.section_weights = {{"observation", 0.5}, {"reasoning", 0.25}, {"response", 1.0}};
        auto set = build_samples(en_sessions(), o, tok);
        INFO("task " << task_name(task) << " unit " << unit_name(unit) << " template " << chat_template_name(tmpl));
        REQUIRE(!set.samples.empty());
        for (const auto& s : set.samples) check_sample(s, o, tok);
        CHECK(set.stats.samples == set.samples.size());
        if (task != SampleTask::Mix && unit == SampleUnit::Turn)
          CHECK(set.samples.size() == therapist_turns(en_sessions()) - set.stats.dropped_missing);
        if (task != SampleTask::Mix && unit == SampleUnit::Session) CHECK(set.samples.size() == en_sessions().size());
      }
    }
  }
}

TEST_CASE("the paper's Eq. 1-2 with the Mistral template, token by token", "[samples]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  SampleOptions o = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  o.prompt_loss_weight = 0.0f;
  std::vector<Session> one = {en_session("s-en-001")};
  auto set = build_samples(one, o, tok);
  REQUIRE(set.samples.size() == 5);
  const Session& s = one[0];
  const auto& first = set.samples[0];
  CHECK(first.turn_id == "0-1");
  CHECK(first.task == "observation_reasoning_dialog");
  const std::string instruction = task_instruction(sample_format(o), "observation_reasoning_dialog");
  const std::string expected = "<s>[INST] " + instruction + "\n\nBackground: " + s.background + "\n\n" +
                               s.turns[0].content + " [/INST]Observation: " + s.turns[0].observation +
                               "\nReasoning: " + s.turns[1].reasoning + "\nResponse: " + s.turns[1].content + "</s>";
  CHECK(tok.decode(first.input_ids) == expected);
  CHECK(target_text(first) == "Observation: " + s.turns[0].observation + "\nReasoning: " + s.turns[1].reasoning +
                                  "\nResponse: " + s.turns[1].content);
  // Completion-only: exactly the target tokens and the EOS carry weight.
  const auto& last_seg = first.segments.back();
  CHECK(last_seg.section == "eos");
  CHECK(last_seg.target);
  CHECK(first.input_ids.back() == tok.eos_id());
  CHECK(first.loss_weights.back() == 1.0f);
  size_t target_tokens = 0;
  for (const auto& g : first.segments)
    if (g.target) target_tokens += g.end - g.begin;
  CHECK(first.weighted_tokens() == target_tokens);
  // The first target token is predicted from the last prompt token ("]" of [/INST]).
  uint32_t start = 0;
  for (const auto& g : first.segments)
    if (g.target) {
      start = g.begin;
      break;
    }
  CHECK(first.loss_weights[start - 1] == 0.0f);
  CHECK(first.loss_weights[start] == 1.0f);

  // The second sample carries the first exchange as history (with its annotations) as prompt.
  const auto& second = set.samples[1];
  CHECK(second.turn_id == "0-3");
  std::string text = tok.decode(second.input_ids);
  CHECK(text.find(" [/INST]Observation: " + s.turns[0].observation) != std::string::npos);
  CHECK(text.find(s.turns[1].content + "</s>[INST] " + s.turns[2].content + " [/INST]Observation: ") != std::string::npos);
  size_t eos = 0;
  for (int32_t id : second.input_ids) eos += id == tok.eos_id();
  CHECK(eos == 2);
  for (const auto& g : second.segments)
    if (g.target) CHECK(g.begin > second.segments[0].end);
}

TEST_CASE("tasks differ in their sections; dialog has no markers", "[samples]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  std::vector<Session> one = {en_session("s-en-001")};
  auto d = build_samples(one, options(SampleTask::Dialog, SampleUnit::Turn), tok).samples[0];
  auto r = build_samples(one, options(SampleTask::ReasoningDialog, SampleUnit::Turn), tok).samples[0];
  CHECK(target_text(d) == one[0].turns[1].content);
  CHECK(target_text(r) == "Reasoning: " + one[0].turns[1].reasoning + "\nResponse: " + one[0].turns[1].content);
  CHECK(tok.decode(d.input_ids).find("Observation:") == std::string::npos);
}

TEST_CASE("session units train every therapist turn in one sequence", "[samples]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  std::vector<Session> one = {en_session("s-en-001")};
  SampleOptions o = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  o.prompt_loss_weight = 0.0f;
  auto turn = build_samples(one, o, tok);
  o.unit = SampleUnit::Session;
  auto sess = build_samples(one, o, tok);
  REQUIRE(sess.samples.size() == 1);
  const auto& s = sess.samples[0];
  CHECK(s.turn_id.empty());
  size_t eos_targets = 0;
  for (const auto& g : s.segments) eos_targets += g.section == "eos" && g.target;
  CHECK(eos_targets == 5);
  // The same target tokens as the five turn samples, in far fewer tokens.
  CHECK(s.weighted_tokens() == turn.stats.weighted_tokens);
  CHECK(sess.stats.target_tokens == turn.stats.target_tokens);
  CHECK(sess.stats.tokens < turn.stats.tokens);
}

TEST_CASE("sessions that open with the therapist, and consecutive turns of one speaker", "[samples]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  std::vector<Session> one = {en_session("s-en-002")};
  REQUIRE(one[0].turns[0].is_therapist());
  SampleOptions o = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  auto set = build_samples(one, o, tok);
  REQUIRE(!set.samples.empty());
  const auto& first = set.samples[0];
  CHECK(first.turn_id == one[0].turns[0].id);
  // No client text to observe: no observation section, and it does not count as missing.
  CHECK(target_text(first).rfind("Reasoning: ", 0) == 0);
  CHECK(set.stats.missing_observation == 0);

  // Two client turns in a row become one user message; two therapist turns one assistant message.
  Session s = en_session("s-en-001");
  Turn extra = s.turns[1];
  extra.id = "0-1b";
  extra.content = "Take your time.";
  s.turns.insert(s.turns.begin() + 2, extra);
  auto two = build_samples({s}, o, tok);
  for (const auto& x : two.samples) check_sample(x, o, tok);
  REQUIRE(two.samples.size() == 6);
  CHECK(two.samples[1].turn_id == "0-1b");
  CHECK(target_text(two.samples[1]) == "\nReasoning: " + extra.reasoning + "\nResponse: Take your time.");
}

TEST_CASE("a client typing template markup gets ordinary tokens", "[samples][injection]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  std::vector<Session> one = {en_session("s-en-005")};
  const Turn* injected = nullptr;
  for (const auto& t : one[0].turns)
    if (t.id == "4-2") injected = &t;
  REQUIRE(injected);
  REQUIRE(injected->content.find("[INST]") != std::string::npos);
  REQUIRE(injected->content.find("</s>") != std::string::npos);
  REQUIRE(injected->content.find("<|im_start|>") != std::string::npos);
  for (ChatTemplate tmpl : {ChatTemplate::Mistral, ChatTemplate::Chatml, ChatTemplate::Llama2, ChatTemplate::Plain}) {
    SampleOptions o = options(SampleTask::ObservationReasoningDialog, SampleUnit::Session, tmpl);
    auto set = build_samples(one, o, tok);
    REQUIRE(set.samples.size() == 1);
    const auto& s = set.samples[0];
    check_sample(s, o, tok);
    size_t control_segments = 0, control_ids = 0;
    for (const auto& g : s.segments)
      control_segments += g.section == "bos" || g.section == "eos" || g.section == "control";
    for (int32_t id : s.input_ids) control_ids += tok.is_special(id);
    CHECK(control_ids == control_segments);
    bool found = false;
    for (const auto& g : s.segments)
      if (g.section == "client" && g.text.find("</s>") != std::string::npos) found = true;
    CHECK(found);
  }
}

TEST_CASE("truncation drops the oldest history and never cuts a target", "[samples][truncation]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  std::vector<Session> one = {en_session("s-en-004")};
  SampleOptions full = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  auto untruncated = build_samples(one, full, tok);
  SampleOptions o = full;
  o.max_seq_len = 700;
  auto set = build_samples(one, o, tok);
  CHECK(set.stats.truncated > 0);
  CHECK(set.samples.size() + set.stats.dropped_too_long == untruncated.samples.size());
  for (const auto& s : set.samples) {
    check_sample(s, o, tok);
    CHECK(s.segments[2].section == "instruction");  // after <s> and "[INST] ": instruction and background stay
    bool has_background = false;
    for (const auto& g : s.segments) has_background |= g.section == "background";
    CHECK(has_background);
    // Its target is the untruncated sample's target, whole.
    for (const auto& u : untruncated.samples)
      if (u.turn_id == s.turn_id) CHECK(target_text(u) == target_text(s));
    // A truncated sample keeps the newest history: it ends like the untruncated one.
    for (const auto& u : untruncated.samples)
      if (u.turn_id == s.turn_id) {
        std::string a = tok.decode(s.input_ids), b = tok.decode(u.input_ids);
        size_t tail = std::min<size_t>(a.size(), 300);
        CHECK(a.substr(a.size() - tail) == b.substr(b.size() - tail));
      }
  }
  // Too small for any target: everything is dropped and counted.
  o.max_seq_len = 40;
  auto none = build_samples(one, o, tok);
  CHECK(none.samples.empty());
  CHECK(none.stats.dropped_too_long == untruncated.samples.size());

  // Session units split into windows that fit, each with the system message.
  SampleOptions so = options(SampleTask::ObservationReasoningDialog, SampleUnit::Session);
  so.max_seq_len = 900;
  auto windows = build_samples(one, so, tok);
  CHECK(windows.samples.size() > 1);
  size_t eos_targets = 0;
  for (const auto& s : windows.samples) {
    check_sample(s, so, tok);
    CHECK(s.truncated);
    for (const auto& g : s.segments) eos_targets += g.section == "eos" && g.target;
  }
  CHECK(eos_targets + windows.stats.dropped_too_long == untruncated.samples.size());
}

TEST_CASE("missing annotations follow the policy and are counted", "[samples][missing]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  std::vector<Session> one = {en_session("s-en-006")};
  auto find = [](const SampleSet& set, const std::string& turn) -> const TokenizedSample* {
    for (const auto& s : set.samples)
      if (s.turn_id == turn) return &s;
    return nullptr;
  };
  SampleOptions o = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  auto skip = build_samples(one, o, tok);
  CHECK(skip.stats.missing_reasoning == 1);    // 5-3 has reasoning ""
  CHECK(skip.stats.missing_observation == 1);  // 5-5 follows 5-4, which has no observation
  REQUIRE(find(skip, "5-3"));
  CHECK(target_text(*find(skip, "5-3")).find("Reasoning:") == std::string::npos);
  REQUIRE(find(skip, "5-5"));
  CHECK(target_text(*find(skip, "5-5")).rfind("Reasoning: ", 0) == 0);

  o.missing = MissingPolicy::Placeholder;
  auto ph = build_samples(one, o, tok);
  REQUIRE(find(ph, "5-3"));
  CHECK(target_text(*find(ph, "5-3")).find("\nReasoning: (not annotated)\nResponse: ") != std::string::npos);
  CHECK(target_text(*find(ph, "5-5")).rfind("Observation: (not annotated)\n", 0) == 0);
  CHECK(ph.stats.placeholders == 2);

  o.missing = MissingPolicy::DropSample;
  auto drop = build_samples(one, o, tok);
  CHECK(find(drop, "5-3") == nullptr);
  CHECK(find(drop, "5-5") == nullptr);
  CHECK(drop.stats.dropped_missing == 2);
  CHECK(drop.samples.size() == skip.samples.size() - 2);

  // Session unit: those turns stay in the sequence but are not trained on.
  o.unit = SampleUnit::Session;
  auto sess = build_samples(one, o, tok);
  REQUIRE(sess.samples.size() == 1);
  size_t eos_targets = 0, eos_all = 0;
  for (const auto& g : sess.samples[0].segments) {
    eos_targets += g.section == "eos" && g.target;
    eos_all += g.section == "eos";
  }
  CHECK(eos_all - eos_targets == 2);
}

TEST_CASE("Chinese sessions use Chinese markers and round-trip through byte fallback", "[samples][zh]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  SampleOptions o = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  o.lang = "zh";
  auto set = build_samples(zh_sessions(), o, tok);
  REQUIRE(!set.samples.empty());
  bool saw_marker = false, saw_byte = false;
  for (const auto& s : set.samples) {
    check_sample(s, o, tok);
    saw_marker |= target_text(s).find("回复：") != std::string::npos;
    for (int32_t id : s.input_ids) saw_byte |= tok.is_byte(id);
  }
  CHECK(saw_marker);
  CHECK(saw_byte);
  CHECK(tok.decode(set.samples[0].input_ids).find("你是一名心理咨询师。") != std::string::npos);
}

TEST_CASE("mix: seeded dialog tasks plus label tasks", "[samples][mix]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  SampleOptions o = options(SampleTask::Mix, SampleUnit::Turn);
  auto set = build_samples(en_sessions(), o, tok);
  for (const char* t : {"dialog", "reasoning_dialog", "observation_reasoning_dialog", "emotion", "strategy",
                        "psychotherapy", "topic"})
    CHECK(set.stats.samples_per_task[t] > 0);
  CHECK(set.stats.samples_per_task["psychotherapy"] == en_sessions().size());
  size_t dialog = set.stats.samples_per_task["dialog"] + set.stats.samples_per_task["reasoning_dialog"] +
                  set.stats.samples_per_task["observation_reasoning_dialog"];
  CHECK(dialog == therapist_turns(en_sessions()));
  // A psychotherapy sample does not leak its answer through the context.
  for (const auto& s : set.samples)
    if (s.task == "psychotherapy") {
      for (const auto& g : s.segments) CHECK(g.section != "psychotherapy");
      CHECK(s.segments[s.segments.size() - 2].section == "label");
    }
  // Another seed draws other tasks for some turns; the same seed the same ones.
  o.seed = 7;
  auto other = build_samples(en_sessions(), o, tok);
  auto again = build_samples(en_sessions(), o, tok);
  CHECK(other.stats.samples_per_task != set.stats.samples_per_task);
  CHECK(other.stats.samples_per_task == again.stats.samples_per_task);
  // Only label tasks.
  o.mix_tasks = {SampleTask::Emotion};
  auto emo = build_samples(en_sessions(), o, tok);
  CHECK(emo.stats.samples_per_task.size() == 1);
  for (const auto& s : emo.samples) check_sample(s, o, tok);
}

TEST_CASE("the same recipe and seed give byte-identical exports", "[samples][export]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  for (ExportFormat f : {ExportFormat::Psy, ExportFormat::Messages, ExportFormat::OpenAI}) {
    SampleOptions o = options(SampleTask::Mix, SampleUnit::Turn);
    std::ostringstream a, b;
    write_samples_jsonl(a, build_samples(en_sessions(), o, tok).samples, f);
    write_samples_jsonl(b, build_samples(en_sessions(), o, tok).samples, f);
    CHECK(a.str() == b.str());
    CHECK(!a.str().empty());
  }
}

TEST_CASE("export formats hold what other stacks need", "[samples][export]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  std::vector<Session> one = {en_session("s-en-001")};
  auto set = build_samples(one, options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn), tok);
  const auto& s = set.samples[1];
  auto j = nlohmann::json::parse(sample_to_json(s, ExportFormat::Psy));
  CHECK(j["session_id"] == "s-en-001");
  CHECK(j["turn_id"] == "0-3");
  CHECK(j["input_ids"].size() == s.input_ids.size());
  CHECK(j["loss_weights"].size() == s.input_ids.size());
  std::string joined;
  for (const auto& g : j["segments"]) joined += g["text"].get<std::string>();
  CHECK(joined == tok.decode(s.input_ids));

  auto m = nlohmann::json::parse(sample_to_json(s, ExportFormat::OpenAI));
  REQUIRE(m["messages"].size() == 5);
  CHECK(m["messages"][0]["role"] == "system");
  CHECK(m["messages"][1]["role"] == "user");
  CHECK(m["messages"][1]["content"] == one[0].turns[0].content);
  CHECK(m["messages"][2]["weight"] == 0);
  CHECK(m["messages"][4]["weight"] == 1);
  CHECK(m["messages"][4]["content"] == target_text(s));
  auto session = build_samples(one, options(SampleTask::Dialog, SampleUnit::Session), tok).samples[0];
  CHECK(nlohmann::json::parse(sample_to_json(session, ExportFormat::Psy))["turn_id"].is_null());

  std::string shown = show_sample(s, false);
  CHECK(shown.find("[[Observation: ") != std::string::npos);
  CHECK(shown.find("</s>]]") != std::string::npos);
  CHECK(show_sample(s, true).find("\x1b[1;32m") != std::string::npos);
}

TEST_CASE("eval prompts are exactly the training prompts, with the gold sections", "[samples][eval]") {
  const Tokenizer& tok = test::tiny_tokenizer();
  for (SampleTask task : {SampleTask::ObservationReasoningDialog, SampleTask::Dialog, SampleTask::Mix}) {
    for (ChatTemplate tmpl : {ChatTemplate::Mistral, ChatTemplate::Chatml, ChatTemplate::Llama2}) {
      SampleOptions o = options(task, SampleUnit::Turn, tmpl);
      auto train = build_samples(en_sessions(), o, tok);
      auto prompts = build_eval_prompts(en_sessions(), o, tok);
      CHECK(prompts.size() == therapist_turns(en_sessions()));
      size_t matched = 0;
      for (const auto& p : prompts) {
        for (const auto& s : train.samples) {
          if (s.session_id != p.session_id || s.turn_id != p.turn_id) continue;
          if (s.task != "dialog" && s.task != "reasoning_dialog" && s.task != "observation_reasoning_dialog") continue;
          ++matched;
          CHECK(p.task == s.task);
          REQUIRE(p.input_ids.size() < s.input_ids.size());
          std::vector<int32_t> prefix(s.input_ids.begin(), s.input_ids.begin() + static_cast<long>(p.input_ids.size()));
          CHECK(prefix == p.input_ids);
          // What follows the prompt is exactly the target.
          uint32_t target_end = 0;
          for (const auto& g : s.segments)
            if (g.target) target_end = g.end;
          std::vector<int32_t> rest(s.input_ids.begin() + static_cast<long>(p.input_ids.size()),
                                    s.input_ids.begin() + target_end);
          CHECK(tok.decode(rest, false) == target_text(s));
          // The parser recovers the gold from the target text.
          ParsedCot parsed = parse_cot(target_text(s), sample_format(o).markers);
          CHECK(parsed.response == p.gold.response);
          if (s.task == "observation_reasoning_dialog" && !p.gold.observation.empty())
            CHECK(parsed.observation == p.gold.observation);
          if (s.task != "dialog") CHECK(parsed.reasoning == p.gold.reasoning);
        }
      }
      CHECK(matched == train.stats.samples_per_task["dialog"] + train.stats.samples_per_task["reasoning_dialog"] +
                           train.stats.samples_per_task["observation_reasoning_dialog"]);
    }
  }
  // Prompts longer than the limit lose their oldest history.
  SampleOptions o = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  SampleStats stats;
  auto shortp = build_eval_prompts({en_session("s-en-004")}, o, tok, 500, &stats);
  bool any_dropped = false;
  for (const auto& p : shortp) {
    CHECK(p.input_ids.size() <= 500);
    any_dropped |= p.dropped_history > 0;
  }
  CHECK(any_dropped);
}

TEST_CASE("parse_cot tolerates malformed generations", "[samples][parse]") {
  CotMarkers en{"Observation:", "Reasoning:", "Response:"};
  auto a = parse_cot("Observation: she is tired.\nReasoning: reflect it.\nResponse: You sound exhausted.", en);
  CHECK(a.has_observation);
  CHECK(a.observation == "she is tired.");
  CHECK(a.reasoning == "reflect it.");
  CHECK(a.response == "You sound exhausted.");
  auto plain = parse_cot("  Just a reply.  ", en);
  CHECK(!plain.any_marker);
  CHECK(plain.has_response);
  CHECK(plain.response == "Just a reply.");
  auto cut = parse_cot("Observation: x\nReasoning: y", en);
  CHECK(cut.any_marker);
  CHECK_FALSE(cut.has_response);
  CHECK(cut.response.empty());
  auto lower = parse_cot("reasoning: because\nresponse： ok then\nObservation: extra turn", en);
  CHECK(lower.reasoning == "because");
  CHECK(lower.response == "ok then");  // stops at the next marker
  CHECK(lower.observation == "extra turn");
  CotMarkers zh{"观察：", "推理：", "回复："};
  auto z = parse_cot("观察：她很累。\n推理:先共情。\n回复：你听起来很疲惫。", zh);
  CHECK(z.observation == "她很累。");
  CHECK(z.reasoning == "先共情。");
  CHECK(z.response == "你听起来很疲惫。");
}

TEST_CASE("options come from the recipe and bad values name their key", "[samples][options]") {
  Recipe r;
  r.data.task = "reasoning_dialog";
  r.data.unit = DataUnit::Session;
  r.model.chat_template = "chatml";
  r.seed = 5;
  SampleOptions o = sample_options_from_recipe(r);
  CHECK(o.task == SampleTask::ReasoningDialog);
  CHECK(o.unit == SampleUnit::Session);
  CHECK(o.chat_template == ChatTemplate::Chatml);
  CHECK(o.seed == 5);
  auto expect_error = [](Recipe bad, const std::string& key) {
    try {
      sample_options_from_recipe(bad);
      FAIL("expected an error about " << key);
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find(key) != std::string::npos);
      CHECK(e.exit_code() == 2);
    }
  };
  Recipe b = r;
  b.data.task = "chitchat";
  expect_error(b, "data.task");
  b = r;
  b.model.chat_template = "vicuna";
  expect_error(b, "model.chat_template");
  b = r;
  b.data.markers = {{"conclusion", "C:"}};
  expect_error(b, "data.markers");
  b = r;
  b.data.context = {"weather"};
  expect_error(b, "data.context");
  b = r;
  b.data.lang = "fr";
  expect_error(b, "data.lang");
  b = r;
  b.data.section_weights = {{"response", -1}};
  expect_error(b, "data.section_weights");

  // Marker overrides reach the samples and the instruction.
  SampleOptions m = options(SampleTask::ObservationReasoningDialog, SampleUnit::Turn);
  m.markers = {{"observation", "OBS:"}, {"response", "THERAPIST:"}};
  auto set = build_samples({en_session("s-en-001")}, m, test::tiny_tokenizer());
  CHECK(target_text(set.samples[0]).rfind("OBS: ", 0) == 0);
  CHECK(target_text(set.samples[0]).find("\nTHERAPIST: ") != std::string::npos);
  CHECK(task_instruction(sample_format(m), "observation_reasoning_dialog").find("\"OBS:\"") != std::string::npos);
}
