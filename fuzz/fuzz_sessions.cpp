// libFuzzer target for the Psy-Insight session loader and what runs on loaded sessions cheaply:
// validation (both --on-error policies), duplicate ids, statistics, the seeded split, and the
// chain-of-thought samples and evaluation prompts built from them (tiny byte-level tokenizer,
// small max_seq_len so that truncation and dropping run too). LibTorch-free.
//
// Input: one option byte, then the file's text (a JSON list of sessions or JSON Lines). The
// option byte picks the task, unit, language, session fields in the prompt, missing-annotation
// policy, prompt-loss weight and max_seq_len. Loading must either succeed or throw psy::Error;
// the samples must keep their documented invariants (ids inside the vocabulary, one weight per
// id, loss_weights[0] == 0, segments tiling the ids, no sample over max_seq_len). Anything else
// aborts. Build and run with fuzz/run_fuzzer.sh sessions.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "libpsy/core/error.h"
#include "libpsy/data/dataset_stats.h"
#include "libpsy/data/load_sessions.h"
#include "libpsy/data/sample_builder.h"
#include "libpsy/data/split.h"
#include "libpsy/text/tokenizer.h"

namespace {

// The byte-level BPE test fixture (any text encodes), found from this file's path.
const psy::Tokenizer& tokenizer() {
  static const psy::Tokenizer tok = [] {
    const std::string here = __FILE__;
    return psy::Tokenizer::from_tokenizer_json(here.substr(0, here.rfind('/')) +
                                               "/../tests/fixtures/text/bytelevel_tiny.json");
  }();
  return tok;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void check_samples(const std::vector<psy::TokenizedSample>& samples, const psy::SampleOptions& o, int vocab) {
  for (const auto& s : samples) {
    check(s.input_ids.size() == s.loss_weights.size());
    check(!s.input_ids.empty() && s.input_ids.size() <= static_cast<size_t>(o.max_seq_len));
    check(s.loss_weights[0] == 0.0f);
    for (int32_t id : s.input_ids) check(id >= 0 && id < vocab);
    for (float w : s.loss_weights) check(w >= 0.0f);
    uint32_t at = 0;
    for (const auto& seg : s.segments) {
      check(seg.begin == at && seg.end >= seg.begin);
      at = seg.end;
    }
    check(at == s.input_ids.size());
  }
}

psy::SampleOptions options_from(uint8_t b) {
  static const psy::SampleTask tasks[] = {psy::SampleTask::ObservationReasoningDialog, psy::SampleTask::Dialog,
                                          psy::SampleTask::ReasoningDialog, psy::SampleTask::Mix};
  static const psy::MissingPolicy policies[] = {psy::MissingPolicy::SkipSection, psy::MissingPolicy::Placeholder,
                                                psy::MissingPolicy::DropSample, psy::MissingPolicy::SkipSection};
  psy::SampleOptions o;
  o.task = tasks[b & 3];
  o.unit = (b & 4) ? psy::SampleUnit::Session : psy::SampleUnit::Turn;
  o.lang = (b & 8) ? "zh" : "en";
  o.missing = policies[(b >> 4) & 3];
  o.chat_template = psy::ChatTemplate::Chatml;  // the fixture has <|im_start|>/<|im_end|>, no EOS for the others
  o.max_seq_len = (b & 128) ? 48 : 1024;
  o.prompt_loss_weight = (b & 1) ? 0.1f : 0.0f;
  if (b & 64) o.context = {"guide", "psychotherapy", "theme", "topic"};
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const psy::SampleOptions options = options_from(data[0]);
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const psy::OnError on_error = (data[0] & 32) ? psy::OnError::Skip : psy::OnError::Stop;
  psy::LoadedSessions loaded;
  try {
    loaded = psy::parse_sessions(text, "fuzz/sessions.json", on_error);
  } catch (const psy::Error& e) {
    check(e.what()[0] != '\0');
    return 0;
  }
  for (const auto& s : loaded.sessions) check(!s.turns.empty());
  for (const auto& k : loaded.skipped) check(!k.reason.empty());
  // A session read back from its own raw_json is the same session.
  if (!loaded.sessions.empty()) {
    const psy::Session& first = loaded.sessions.front();
    try {
      const auto again = psy::parse_sessions("[" + first.raw_json + "]", "fuzz/raw.json");
      check(again.sessions.size() == 1 && again.sessions[0].dialog_id == first.dialog_id &&
            again.sessions[0].turns.size() == first.turns.size());
    } catch (const psy::Error&) {
      std::abort();  // raw_json of a session that loaded must load again
    }
  }
  const psy::DatasetStats stats = psy::compute_stats(loaded.sessions);
  check(stats.sessions == loaded.sessions.size());
  check(!psy::stats_to_text(stats).empty() && !psy::stats_to_json(stats).empty());
  if (loaded.sessions.empty()) return 0;

  std::vector<psy::Session> train, test;
  psy::split_sessions(loaded.sessions, 0.3, 66, train, test);
  check(train.size() + test.size() == loaded.sessions.size());
  const psy::Tokenizer& tok = tokenizer();
  static const bool verbose = std::getenv("PSY_FUZZ_VERBOSE") != nullptr;  // to see what a seed reaches
  try {
    const psy::SampleSet set = psy::build_samples(loaded.sessions, options, tok);
    check_samples(set.samples, options, tok.vocab_size());
    const auto prompts = psy::build_eval_prompts(loaded.sessions, options, tok);
    for (const auto& p : prompts)
      for (int32_t id : p.input_ids) check(id >= 0 && id < tok.vocab_size());
    if (verbose) std::fprintf(stderr, "sessions %zu samples %zu prompts %zu\n", loaded.sessions.size(), set.samples.size(), prompts.size());
  } catch (const psy::Error& e) {
    check(e.what()[0] != '\0');
    if (verbose) std::fprintf(stderr, "sessions %zu: %s\n", loaded.sessions.size(), e.what());
  }
  return 0;
}
