// psy_kill_resume: kill -9 reliability of a run (issue 14), rerunnable by anyone:
//
//   build/tests/reliability/psy_kill_resume [--train-kills 30] [--eval-kills 30] [--seed 1]
//   scripts/reliability/kill_resume.sh       (the same, built through the build lock, under nice)
//
// 1. Makes a tiny random Llama and tokenizer (psy tokenizer train, psy init-model), then runs an
//    uninterrupted reference `psy train` (tests/fixtures/reliability/kill_recipe.yaml: 12 LoRA
//    steps with dropout, a checkpoint every 2 steps keeping 2, held-out loss every 3) and
//    `psy eval` of its adapter (greedy generation of 15 held-out turns, then scoring), twice each:
//    the second pair must equal the first (the runs are deterministic) and gives the timelines.
// 2. N times each, seeded: starts the same train (or eval) in a fresh folder and SIGKILLs it at a
//    moment drawn in turn from: any moment (uniform over the measured duration); inside a
//    checkpoint save (once its hidden .tmp-step-N folder shows; or the end of the run: final
//    checkpoint, adapter/, exit); the end of a step with held-out evaluation; right after a new
//    checkpoint (pruning the oldest); the final adapter/ being written -- for eval: any moment,
//    while line k of predictions.jsonl is generated, scoring until metrics.json. One kill in
//    three also kills the first resume (at a uniform moment, or inside the resume's save of a
//    last checkpoint it saves again). A run that ends before its moment is drawn again.
// 3. After every kill: every checkpoint present is complete and loadable, log.jsonl and
//    predictions.jsonl hold no torn line, adapter/ and the JSON files are whole
//    (run_folder_checks.h). Then resumes as documented -- `psy train ... --resume` when a
//    checkpoint exists (else the same command again: nothing was saved to resume from), `psy eval`
//    run again -- which must exit 0, leave no temporary file, and end exactly where the
//    uninterrupted run ended (run_comparison.h: bit-equal adapter, checkpoints, losses and
//    predictions; metrics.json equal but for its "resumed" count).
// Prints one line per kill and "kills: N, resumes ok: N, mismatches: 0"; exit 0 only when every
// kill was resumed, no folder problem was seen and nothing differs.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "libpsy/core/cli_args.h"
#include "libpsy/core/error.h"
#include "libpsy/core/remove_tree.h"
#include "libpsy/core/rng.h"
#include "tests/reliability/child_process.h"
#include "tests/reliability/run_comparison.h"
#include "tests/reliability/run_folder_checks.h"
#include "tests/reliability/run_watch.h"

namespace fs = std::filesystem;

namespace psy::reliability {

namespace {

constexpr double kPoll = 0.0003;  // seconds between looks at a live folder
constexpr long kSteps = 12, kSaveEvery = 2, kKeepLast = 2, kEvalEvery = 3;

struct Settings {
  std::string psy, source, work;
  long train_kills = 30, eval_kills = 30;
  uint64_t seed = 1;
  bool keep = false;
};

// The command lines of the experiment.
struct Commands {
  std::string psy, recipe, model, data, adapter, logs;
  std::vector<std::string> base(const std::string& command, const std::string& output) const {
    return {psy, command, recipe, "model.path=" + model, "data.path=[" + data + "]", "output=" + output, "--quiet"};
  }
  std::vector<std::string> train(const std::string& run, bool resume) const {
    auto a = base("train", run);
    for (const std::string& o : {"train.max_steps=" + std::to_string(kSteps), "train.save_every=" + std::to_string(kSaveEvery),
                                 "train.keep_last=" + std::to_string(kKeepLast), "train.eval_every=" + std::to_string(kEvalEvery)})
      a.push_back(o);
    if (resume) a.push_back("--resume");
    return a;
  }
  std::vector<std::string> eval(const std::string& out) const {
    auto a = base("eval", fs::path(adapter).parent_path().string());
    for (const std::string& o : {std::string("--checkpoint"), adapter, std::string("--out"), out, std::string("--score-threads"), std::string("1")})
      a.push_back(o);
    return a;
  }
};

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string t = s.str();
  return t.size() > 600 ? t.substr(t.size() - 600) : t;
}

// Runs to the end; throws with its stderr when it fails.
void run_ok(const std::vector<std::string>& argv, const std::string& logs, const std::string& name) {
  ChildProcess p(argv, logs + "/" + name + ".out", logs + "/" + name + ".err");
  p.wait();
  if (p.exit_code() != 0)
    throw Error(name + ": psy " + argv[1] + " exited with " + std::to_string(p.exit_code()) + ": " +
                tail_of(logs + "/" + name + ".err"), kExitFailure);
}

TrainTimeline time_train(const Commands& c, const std::string& run, const std::string& name) {
  TrainTimeline t;
  ChildProcess p(c.train(run, false), c.logs + "/" + name + ".out", c.logs + "/" + name + ".err");
  bool saving = false;
  while (!p.finished()) {
    const TrainView v = view_train(run);
    const double now = p.elapsed();
    while (t.line_at.size() < v.log_lines) t.line_at.push_back(now);
    if (v.saves_seen > 0 && !saving) t.save_start.push_back(now);
    if (v.saves_seen == 0 && saving) t.save_end.push_back(now);
    saving = v.saves_seen > 0;
    sleep_seconds(kPoll);
  }
  t.exit_at = p.elapsed();
  if (p.exit_code() != 0) throw Error(name + ": psy train exited with " + std::to_string(p.exit_code()) + ": " +
                                      tail_of(c.logs + "/" + name + ".err"), kExitFailure);
  if (t.line_at.size() != static_cast<size_t>(kSteps))
    throw Error(name + ": " + expected_found(std::to_string(kSteps) + " log lines", std::to_string(t.line_at.size())), kExitFailure);
  return t;
}

EvalTimeline time_eval(const Commands& c, const std::string& out, const std::string& name) {
  EvalTimeline t;
  ChildProcess p(c.eval(out), c.logs + "/" + name + ".out", c.logs + "/" + name + ".err");
  while (!p.finished()) {
    const EvalView v = view_eval(out);
    while (t.line_at.size() < v.predictions) t.line_at.push_back(p.elapsed());
    if (v.metrics && t.metrics_at == 0) t.metrics_at = p.elapsed();
    sleep_seconds(kPoll);
  }
  if (t.metrics_at == 0) t.metrics_at = p.elapsed();
  t.exit_at = p.elapsed();
  if (p.exit_code() != 0) throw Error(name + ": psy eval exited with " + std::to_string(p.exit_code()) + ": " +
                                      tail_of(c.logs + "/" + name + ".err"), kExitFailure);
  if (t.line_at.empty()) throw Error(name + ": psy eval wrote no predictions", kExitFailure);
  return t;
}

// When to kill: once the trigger holds, wait `delay` seconds, then SIGKILL.
enum class Trigger {
  kLines,           // `lines` lines of log.jsonl (train) or predictions.jsonl (eval) written; 0: at the start
  kSaveFolder,      // step `lines` logged and its save's hidden .tmp-step-N folder seen (or the save done)
  kSaveFolderOnly,  // a hidden .tmp-step-N folder seen (a resume's save)
  kNewCheckpoint,   // checkpoints/step-`lines` complete: pruning of the oldest comes next
  kAdapterWrite,    // the final adapter/ being written (or written)
};
struct KillPlan {
  std::string kind;   // what the moment aims at, for the summary
  size_t lines = 0;
  double delay = 0;
  Trigger trigger = Trigger::kLines;
};

bool train_trigger_holds(const KillPlan& plan, const std::string& run) {
  if (plan.trigger == Trigger::kLines && plan.lines == 0) return true;
  const TrainView v = view_train(run);
  const long step = static_cast<long>(plan.lines);
  switch (plan.trigger) {
    case Trigger::kLines: return v.log_lines >= plan.lines;
    case Trigger::kSaveFolder: return v.log_lines >= plan.lines && (v.saves_seen > 0 || v.newest_checkpoint >= step);
    case Trigger::kSaveFolderOnly: return v.saves_seen > 0;
    case Trigger::kNewCheckpoint: return v.newest_checkpoint >= step;
    case Trigger::kAdapterWrite: return v.adapter_writing || v.final_adapter;
  }
  return true;
}

double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform01(); }

KillPlan plan_train_kill(long i, const TrainTimeline& t, Rng& rng) {
  auto line_time = [&](long step) { return step <= 0 ? 0.0 : t.line_at[static_cast<size_t>(step - 1)]; };
  std::vector<double> took;  // as long as the reference's saves took (median)
  for (size_t j = 0; j < std::min(t.save_start.size(), t.save_end.size()); ++j) took.push_back(t.save_end[j] - t.save_start[j]);
  std::sort(took.begin(), took.end());
  const double median = took.empty() ? 0.01 : took[took.size() / 2];
  switch (i % 5) {
    case 0:
      return {"any moment", 0, uniform(rng, 0, t.exit_at)};
    case 4:  // the final adapter/: its two files
      return {"final adapter", 0, uniform(rng, 0, 0.2 * median), Trigger::kAdapterWrite};
    case 3: {  // right after a checkpoint is renamed into place: pruning the oldest (keep_last)
      const long first = kSaveEvery * (kKeepLast + 1);
      const long step = first + kSaveEvery * static_cast<long>(rng.uniform_below((kSteps - first) / kSaveEvery + 1));
      return {"pruning", static_cast<size_t>(step), uniform(rng, 0, 0.002), Trigger::kNewCheckpoint};
    }
    case 1: {  // from the step's log line through the save and the pruning (the last: final adapter too)
      const long k = static_cast<long>(rng.uniform_below(kSteps / kSaveEvery));
      const long step = kSaveEvery * (k + 1);
      if (step == kSteps && rng.uniform_below(2) == 0)  // the end: final checkpoint, adapter/, exit
        return {"final save", static_cast<size_t>(step), uniform(rng, 0, t.exit_at - line_time(step))};
      return {"checkpoint save", static_cast<size_t>(step), uniform(rng, 0, 1.2 * median), Trigger::kSaveFolder};
    }
    case 2: {  // the end of a step that evaluates the held-out loss (evaluation runs after the update)
      const long step = kEvalEvery * (1 + static_cast<long>(rng.uniform_below(kSteps / kEvalEvery)));
      const double gap = line_time(step) - line_time(step - 1);
      return {"held-out evaluation", static_cast<size_t>(step - 1), uniform(rng, 0.4 * gap, gap)};
    }
  }
  return {"any moment", 0, uniform(rng, 0, t.exit_at)};
}

KillPlan plan_eval_kill(long i, const EvalTimeline& t, Rng& rng) {
  const size_t n = t.line_at.size();
  switch (i % 3) {
    case 0:
      return {"any moment", 0, uniform(rng, 0, t.exit_at)};
    case 1: {
      const size_t k = 1 + static_cast<size_t>(rng.uniform_below(n - 1 > 0 ? n - 1 : 1));
      const double per_line = (t.line_at[n - 1] - t.line_at[0]) / static_cast<double>(std::max<size_t>(1, n - 1));
      return {"generation", k, uniform(rng, 0, per_line)};
    }
    default:  // scoring, then metrics.json (the reference wrote it at metrics_at)
      return {"scoring", n, uniform(rng, 0, 1.2 * (t.metrics_at - t.line_at[n - 1]))};
  }
}

struct KillOutcome {
  bool killed = false;  // false: the process finished first
  int exit_code = -1;   // when it finished first
  double at = 0;        // seconds after its start
};

// Starts `argv` and kills it as `plan` says.
KillOutcome start_and_kill(const std::vector<std::string>& argv, const std::string& log, const KillPlan& plan,
                           const std::function<bool(const KillPlan&)>& reached) {
  ChildProcess p(argv, log + ".out", log + ".err");
  KillOutcome o;
  while (!p.finished()) {
    if (reached(plan)) {
      sleep_seconds(plan.delay);
      o.at = p.elapsed();
      o.killed = p.kill_now();
      break;
    }
    sleep_seconds(kPoll);
  }
  o.exit_code = p.exit_code();
  return o;
}

std::string train_phase(const std::string& run) {
  const TrainView v = view_train(run);
  if (v.saves_seen > 0) return "in a checkpoint save";
  if (v.pruning) return "while pruning an old checkpoint";
  if (v.adapter_writing) return "while writing adapter/";
  if (v.log_lines == 0) return "at start-up (before step 1's log line)";
  if (v.log_lines >= static_cast<size_t>(kSteps))
    return v.final_adapter ? "after adapter/ was written" : "after the last step (final checkpoint, adapter/)";
  const long step = static_cast<long>(v.log_lines) + 1;
  if (v.log_lines % kSaveEvery == 0 && v.newest_checkpoint < static_cast<long>(v.log_lines))
    return "in a checkpoint save (before its folder)";
  return step % kEvalEvery == 0 ? "in a step with held-out evaluation" : "in a training step";
}

std::string eval_phase(const std::string& out, size_t n) {
  const EvalView v = view_eval(out);
  if (v.metrics) return "after metrics.json";
  if (v.predictions == 0) return "at start-up (no prediction yet)";
  return v.predictions < n ? "in generation" : "in scoring";
}

struct Tally {
  long kills = 0, resumes_ok = 0, resume_failures = 0, folder_problems = 0, mismatches = 0, late = 0;
  std::map<std::string, long> aimed, landed;
};

void report_problems(const std::string& label, const std::vector<std::string>& problems, long& count) {
  for (const auto& p : problems) std::cout << "  PROBLEM " << label << ": " << p << "\n";
  count += static_cast<long>(problems.size());
}

// One trial: a fresh folder, kill(s), resume until done, checks and comparison.
struct Trial {
  std::string label, folder, logs;
  std::function<std::vector<std::string>(bool)> command;   // argument: resume
  std::function<bool(const KillPlan&)> reached;  // is it time to start the plan's delay?
  std::function<std::vector<std::string>()> check;
  std::function<std::vector<std::string>()> compare;
  std::function<std::string()> phase;
};

// A trial whose process finished before its kill moment is drawn again (another moment, same
// kind), up to 5 times, so that N trials are N kills.
void run_trial(const Trial& trial, const std::function<KillPlan()>& draw,
               const std::function<std::optional<KillPlan>()>& draw_second, Tally& tally) {
  KillPlan first = draw();
  KillOutcome k = start_and_kill(trial.command(false), trial.logs + "-0", first, trial.reached);
  for (int redraw = 0; !k.killed && redraw < 5; ++redraw) {
    ++tally.late;
    std::error_code ec;
    remove_tree(trial.folder, ec);
    first = draw();
    k = start_and_kill(trial.command(false), trial.logs + "-0", first, trial.reached);
  }
  if (!k.killed) {
    std::cout << trial.label << " [" << first.kind << "]: finished before the kill 6 times; not counted\n";
    return;
  }
  ++tally.kills;
  ++tally.aimed[first.kind];
  const std::string phase = trial.phase();
  ++tally.landed[phase];
  std::cout << trial.label << " [" << first.kind << "]: killed at " << k.at << " s, " << phase;
  report_problems(trial.label + " after the kill", trial.check(), tally.folder_problems);
  const std::optional<KillPlan> second = draw_second();
  for (int round = 1; round <= 3; ++round) {
    const std::string log = trial.logs + "-" + std::to_string(round);
    int exit_code = -1;
    if (round == 1 && second) {
      const KillOutcome again = start_and_kill(trial.command(true), log, *second, trial.reached);
      if (again.killed) {
        ++tally.kills;
        ++tally.resumes_ok;  // the first resume started and ran until we killed it too
        const std::string p2 = trial.phase();
        ++tally.aimed[second->kind];
        ++tally.landed[p2];
        std::cout << "; resume killed at " << again.at << " s, " << p2;
        report_problems(trial.label + " after killing the resume", trial.check(), tally.folder_problems);
        continue;
      }
      exit_code = again.exit_code;
    } else {
      ChildProcess p(trial.command(true), log + ".out", log + ".err");
      p.wait();
      exit_code = p.exit_code();
    }
    if (exit_code != 0) {
      ++tally.resume_failures;
      std::cout << "\n  PROBLEM " << trial.label << ": the resume exited with " << exit_code << ": "
                << tail_of(log + ".err") << "\n";
      return;
    }
    ++tally.resumes_ok;
    break;
  }
  std::vector<std::string> after = trial.check();
  for (const auto& t : temporary_leftovers(trial.folder)) after.push_back("left behind: " + t);
  const auto diffs = trial.compare();
  std::cout << (after.empty() && diffs.empty() ? "; resumed: equal to the uninterrupted run\n" : "\n");
  report_problems(trial.label + " after the resume", after, tally.folder_problems);
  report_problems(trial.label + " vs the uninterrupted run", diffs, tally.mismatches);
  if (after.empty() && diffs.empty()) {
    std::error_code ec;
    remove_tree(trial.folder, ec);
  }
}

std::string counts(const std::map<std::string, long>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += (s.empty() ? "" : ", ") + k + " " + std::to_string(v);
  return s;
}

Commands make_assets(const Settings& s) {
  Commands c;
  // A private copy: another build relinking psy meanwhile must not fail a start ("Permission denied").
  c.psy = s.work + "/psy";
  fs::copy_file(s.psy, c.psy, fs::copy_options::overwrite_existing);
  c.recipe = s.source + "/tests/fixtures/reliability/kill_recipe.yaml";
  c.data = s.source + "/data/sample/psy_insight_sample_en.json";
  c.logs = s.work + "/logs";
  fs::create_directories(c.logs);
  run_ok({c.psy, "tokenizer", "train", "--input", c.data, "--vocab-size", "600", "--out", s.work + "/tokenizer"}, c.logs, "tokenizer");
  c.model = s.work + "/model";
  run_ok({c.psy, "init-model", "--config", s.source + "/tests/fixtures/evaluate/tiny_llama_config.json", "--tokenizer",
          s.work + "/tokenizer", "--out", c.model, "--seed", "5"}, c.logs, "init-model");
  c.adapter = s.work + "/reference-train/adapter";
  return c;
}

int run(const Settings& s) {
  Commands c = make_assets(s);
  Tally train_tally, eval_tally;
  // References: two uninterrupted runs of each must agree before kills can be judged.
  run_ok(c.train(s.work + "/reference-train", false), c.logs, "reference-train");
  const TrainTimeline tt = time_train(c, s.work + "/reference-train-2", "reference-train-2");
  report_problems("reference train run twice", compare_train_runs(s.work + "/reference-train", s.work + "/reference-train-2"),
                  train_tally.mismatches);
  run_ok(c.eval(s.work + "/reference-eval"), c.logs, "reference-eval");
  const EvalTimeline et = time_eval(c, s.work + "/reference-eval-2", "reference-eval-2");
  report_problems("reference eval run twice", compare_eval_runs(s.work + "/reference-eval", s.work + "/reference-eval-2"),
                  eval_tally.mismatches);
  const size_t n = et.line_at.size();
  double saving = 0;
  for (size_t k = 0; k < std::min(tt.save_start.size(), tt.save_end.size()); ++k) saving += tt.save_end[k] - tt.save_start[k];
  std::cout << "reference: psy train " << kSteps << " steps in " << tt.exit_at << " s (steps from " << tt.line_at.front()
            << " s; " << tt.save_start.size() << " checkpoint saves seen, " << 1000 * saving / std::max<size_t>(1, tt.save_end.size())
            << " ms each), psy eval " << n << " examples in " << et.exit_at << " s (generation from " << et.line_at.front()
            << " s to " << et.line_at.back() << " s, metrics.json at " << et.metrics_at << " s)\n";

  Rng rng(s.seed);
  for (long i = 0; i < s.train_kills; ++i) {
    const std::string run = s.work + "/train-" + std::to_string(i);
    Trial t{"train " + std::to_string(i + 1) + "/" + std::to_string(s.train_kills), run, c.logs + "/train-" + std::to_string(i),
            [&c, run](bool resume) {
              const bool saved = resume && view_train(run).newest_checkpoint > 0;
              return c.train(run, saved);
            },
            [run](const KillPlan& plan) { return train_trigger_holds(plan, run); },
            [run] { return check_train_folder(run); },
            [&s, run] { return compare_train_runs(s.work + "/reference-train", run); }, [run] { return train_phase(run); }};
    const auto first = [&rng, &tt, i] { return plan_train_kill(i, tt, rng); };
    // One in three: kill the resume too; when the run had reached its last checkpoint, the resume
    // saves it again: aim at that save.
    const auto second = [&rng, &tt, run]() -> std::optional<KillPlan> {
      if (rng.uniform_below(3) != 0) return std::nullopt;
      if (view_train(run).newest_checkpoint == kSteps)
        return KillPlan{"the resume's save of the last checkpoint", 0, uniform(rng, 0, 0.01), Trigger::kSaveFolderOnly};
      return KillPlan{"any moment (during a resume)", 0, uniform(rng, 0, tt.exit_at)};
    };
    run_trial(t, first, second, train_tally);
  }
  for (long i = 0; i < s.eval_kills; ++i) {
    const std::string out = s.work + "/eval-" + std::to_string(i);
    Trial t{"eval " + std::to_string(i + 1) + "/" + std::to_string(s.eval_kills), out, c.logs + "/eval-" + std::to_string(i),
            [&c, out](bool) { return c.eval(out); },
            [out](const KillPlan& plan) { return plan.lines == 0 || view_eval(out).predictions >= plan.lines; },
            [out] { return check_eval_folder(out); },
            [&s, out] { return compare_eval_runs(s.work + "/reference-eval", out); }, [out, n] { return eval_phase(out, n); }};
    const auto first = [&rng, &et, i] { return plan_eval_kill(i, et, rng); };
    const auto second = [&rng, &et]() -> std::optional<KillPlan> {
      if (rng.uniform_below(3) != 0) return std::nullopt;
      return KillPlan{"any moment (during a resume)", 0, uniform(rng, 0, et.exit_at)};
    };
    run_trial(t, first, second, eval_tally);
  }
  for (const auto& [name, tally] : {std::make_pair("psy train", &train_tally), std::make_pair("psy eval", &eval_tally)})
    std::cout << name << ": kills " << tally->kills << " (aimed at: " << counts(tally->aimed) << "; landed: "
              << counts(tally->landed) << "), resumes ok " << tally->resumes_ok << ", resume failures "
              << tally->resume_failures << ", folder problems " << tally->folder_problems << ", mismatches "
              << tally->mismatches << ", finished before the kill " << tally->late << "\n";
  const long kills = train_tally.kills + eval_tally.kills, ok = train_tally.resumes_ok + eval_tally.resumes_ok;
  const long problems = train_tally.folder_problems + eval_tally.folder_problems;
  const long mismatches = train_tally.mismatches + eval_tally.mismatches;
  std::cout << "kills: " << kills << ", resumes ok: " << ok << ", folder problems: " << problems
            << ", mismatches: " << mismatches << "\n";
  const bool good = kills == ok && problems == 0 && mismatches == 0 && kills > 0;
  if (good && !s.keep) {
    std::error_code ec;
    remove_tree(s.work, ec);
  } else {
    std::cout << "work folder kept: " << s.work << "\n";
  }
  return good ? 0 : 1;
}

}  // namespace

}  // namespace psy::reliability

int main(int argc, char** argv) {
  using namespace psy;
  ArgParser p("psy_kill_resume",
              "Kill -9 reliability of psy train and psy eval: kill at seeded random moments, check the run\n"
              "folder, resume, and compare with an uninterrupted run (issue 14). Exit 0 when all is well.");
  p.option("train-kills", "N", "kills of psy train", "30")
      .option("eval-kills", "N", "kills of psy eval", "30")
      .option("seed", "S", "seed of the kill moments", "1")
      .option("psy", "FILE", "the psy executable", PSY_EXE)
      .option("source", "DIR", "psy's source folder (recipe fixture, sample data)", PSY_SOURCE_DIR)
      .option("work", "DIR", "work folder (default: a new folder under $TMPDIR or /tmp)", "")
      .flag("keep", "keep the work folder even when everything passed");
  try {
    auto a = p.parse(std::vector<std::string>(argv + 1, argv + argc));
    if (a.help_requested()) return std::cout << p.help(), 0;
    reliability::Settings s;
    s.psy = a.get("psy");
    s.source = a.get("source");
    s.train_kills = a.get_long("train-kills");
    s.eval_kills = a.get_long("eval-kills");
    s.seed = static_cast<uint64_t>(a.get_long("seed"));
    s.keep = a.flag("keep");
    if (a.given("work")) {
      s.work = a.get("work");
      std::filesystem::create_directories(s.work);
    } else {
      const char* tmp = std::getenv("TMPDIR");
      std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/psy-kill-resume-XXXXXX";
      if (!mkdtemp(templ.data())) throw Error("cannot create a work folder under " + templ, kExitFailure);
      s.work = templ;
    }
    s.work = std::filesystem::absolute(s.work).string();
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    setenv("HF_HUB_OFFLINE", "1", 1);
    std::cout << std::unitbuf;
    std::cout << "psy_kill_resume: seed " << s.seed << ", work folder " << s.work << "\n";
    return reliability::run(s);
  } catch (const Error& e) {
    std::cerr << "psy_kill_resume: " << e.what() << "\n";
    return e.exit_code();
  }
}
