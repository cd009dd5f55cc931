// psy judge: score predictions with a local chat model and rubric files (libpsy/judge).
#include <filesystem>
#include <iostream>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/file_lock.h"
#include "libpsy/evaluate/prediction_record.h"
#include "libpsy/judge/judge_loop.h"
#include "libpsy/judge/judge_run.h"
#include "libpsy/judge/rubric.h"
#include "libpsy/run/run_folder.h"
#include "libpsy/runtime/runtime.h"
#include "libpsy/train/run_folder_files.h"
#include "trainers/commands.h"

namespace fs = std::filesystem;

namespace psy::cli {

namespace {

const char* kJudgeEpilog = R"(Each prediction (a line of predictions.jsonl as psy eval writes it) is shown to the judge
model with the rubric's prompt: the conversation before the reply (the prediction's prompt,
cut to its last --max-history-chars bytes), the candidate reply (the parsed response), and, when
the rubric asks for them, the gold response and the candidate's observation and reasoning.
The judge answers one line per dimension, `name: <integer>`. An answer psy cannot read is asked
again once (saying what was wrong); if the second answer cannot be read either, the example is
unscored: it is counted and listed in judge_NAME.json, and left out of the means.
Rubrics in the repository: rubrics/cpsycoun.yaml (comprehensiveness, professionalism,
authenticity, safety), rubrics/psy_insight.yaml (interactivity, helpfulness, comforting,
explainability), rubrics/ctrs.yaml (CTRS-style items that one reply can show).
Outputs, per rubric NAME, next to the predictions (or in --out): judgements_NAME.jsonl and
judge_NAME.json (means with 95% bootstrap intervals, unscored count, signature). A rerun with
the same inputs reuses the judgements already made. psy report shows the means as columns
judge.NAME.DIMENSION beside the lexical metrics.)";

}  // namespace

int cmd_judge(const Args& args) {
  ArgParser p("psy judge",
              "Score every prediction with a local chat model (the judge) on the dimensions of one or more\n"
              "rubric files. Greedy decoding by default, so the same inputs give the same scores.");
  p.positional("PREDICTIONS", "predictions.jsonl from psy eval, or the run folder that holds it")
      .multi_option("rubric", "FILE", "rubric YAML file (repeat for several), e.g. rubrics/cpsycoun.yaml")
      .option("model", "DIR", "Hugging Face chat model folder of the judge", "")
      .option("tokenizer", "PATH", "tokenizer.json, tokenizer.model or their folder (default: the model folder)", "")
      .option("chat-template", "NAME", "auto (the model folder's own template), mistral, llama2, chatml, plain or none", "auto")
      .option("dtype", "fp32|bf16|fp16", "judge weights dtype", "fp32")
      .option("device", "DEVICE", "cpu, cuda or cuda:N", "cpu")
      .option("max-new-tokens", "N", "tokens the judge may write per answer", "64")
      .option("temperature", "T", "0 = greedy (deterministic); > 0 samples", "0")
      .option("seed", "N", "sampling seed, and the seed of the bootstrap intervals", "66")
      .option("batch-size", "N", "examples judged together", "4")
      .option("max-history-chars", "N", "show at most the last N bytes of the conversation (0 = all)", "6000")
      .option("bootstrap", "N", "bootstrap resamples of the 95% intervals (0 = none)", "1000")
      .option("out", "DIR", "output folder (default: the folder of the predictions)", "")
      .option("threads", "N", "CPU threads (0 = all cores)", "0")
      .flag("overwrite", "judge every example again, ignoring earlier judgements")
      .flag("show-prompt", "print what the judge would be asked about the first prediction, per rubric, and stop (no model)")
      .flag("quiet", "no progress output on stderr")
      .epilog(kJudgeEpilog);
  auto a = p.parse(args);
  if (a.help_requested()) return std::cout << p.help(), 0;

  judge::JudgeRequest q;
  q.predictions_path = a.get("PREDICTIONS");
  if (fs::is_directory(q.predictions_path)) q.predictions_path = RunFolder(q.predictions_path).predictions_path();
  q.rubric_paths = a.list("rubric");
  if (q.rubric_paths.empty()) throw Error("psy judge: --rubric FILE is required (e.g. --rubric rubrics/cpsycoun.yaml)");
  if (a.flag("show-prompt")) {
    const auto predictions = read_predictions(q.predictions_path);
    if (predictions.empty()) throw Error(q.predictions_path + ": no predictions (expected one JSON object per line)");
    for (const auto& path : q.rubric_paths) {
      const judge::Rubric rubric = judge::load_rubric(path);
      const auto items = judge::judge_items({predictions.front()}, "", static_cast<size_t>(a.get_long("max-history-chars")));
      std::cout << "=== " << rubric.name << " (" << path << "), prediction " << items.front().id << "\n";
      for (const auto& m : judge::judge_messages(rubric, items.front().input))
        std::cout << "--- " << m.role << "\n" << m.content << "\n";
    }
    return 0;
  }
  if (a.get("model").empty()) throw Error("psy judge: --model DIR is required (the judge's Hugging Face chat model folder)");
  auto whole = [&a](const std::string& name, long lo, long hi) {
    const long v = a.get_long(name);
    if (v < lo || v > hi)
      throw Error("psy judge: --" + name + " " + expected_found(std::to_string(lo) + " to " + std::to_string(hi), a.get(name)));
    return v;
  };
  judge::JudgeModelSettings& s = q.judge;
  s.model = a.get("model");
  s.tokenizer = a.get("tokenizer");
  s.chat_template = a.get("chat-template");
  s.dtype = a.get("dtype");
  s.device = a.get("device");
  s.max_new_tokens = whole("max-new-tokens", 1, 1 << 20);
  s.temperature = a.get_double("temperature");
  s.seed = static_cast<uint64_t>(whole("seed", 0, 1L << 62));
  s.batch_size = whole("batch-size", 1, 65536);
  s.max_history_chars = whole("max-history-chars", 0, 1L << 40);
  s.bootstrap = static_cast<int>(whole("bootstrap", 0, 10000000));
  q.out_dir = a.get("out");
  q.overwrite = a.flag("overwrite");
  q.quiet = a.flag("quiet");
  set_threads(static_cast<int>(whole("threads", 0, 4096)));

  // One writer per output folder (psy eval with eval.judge holds the same lock while it judges).
  std::string lock_dir = q.out_dir.empty() ? fs::path(q.predictions_path).parent_path().string() : q.out_dir;
  if (lock_dir.empty()) lock_dir = ".";
  judge::check_judge_request(q);  // bad input leaves no folder or lock behind
  FolderLock lock = RunFolder(lock_dir).lock("psy judge");
  for (const auto& stale : clean_stale_files(lock_dir))
    if (!q.quiet) std::cerr << "psy judge: removed " << stale << " (left by a killed run)\n";
  for (const auto& o : judge::run_judge(q)) {
    const auto& j = o.summary;
    std::cout << o.rubric << ": " << j["n_scored"].get<size_t>() << " of " << j["n_examples"].get<size_t>()
              << " scored, " << j["n_unscored"].get<size_t>() << " unscored (" << j["retried"].get<size_t>()
              << " retried, " << j["rescued_by_retry"].get<size_t>() << " rescued by the retry); " << o.reused
              << " reused, " << o.judged << " judged\n";
    for (auto it = j["dimensions"].begin(); it != j["dimensions"].end(); ++it) {
      std::cout << "  " << it.key() << ": " << it.value()["mean"].dump();
      if (!it.value()["ci95"].is_null()) std::cout << "  ci95 " << it.value()["ci95"].dump();
      std::cout << "  (" << it.value()["min"].dump() << " to " << it.value()["max"].dump() << ")\n";
    }
    std::cout << "  " << o.summary_path << "\n";
  }
  return 0;
}

}  // namespace psy::cli
