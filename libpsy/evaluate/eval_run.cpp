#include "libpsy/evaluate/eval_run.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "eval/scoring.h"
#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/json_file.h"
#include "libpsy/core/text_file.h"
#include "libpsy/data/sample_options.h"
#include "libpsy/evaluate/eval_progress.h"
#include "libpsy/evaluate/generated_cot.h"
#include "libpsy/evaluate/held_out_examples.h"
#include "libpsy/evaluate/prediction_record.h"
#include "libpsy/evaluate/prediction_scoring.h"
#include "libpsy/generate/continuous_batching.h"
#include "libpsy/generate/generator.h"
#include "libpsy/judge/judge_run.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/peft_adapter_io.h"
#include "libpsy/retrieval/recipe_retrieval.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/train/file_hash.h"
#include "libpsy/run/run_folder.h"
#include "libpsy/run/torch_choices.h"

namespace fs = std::filesystem;

namespace psy {

namespace {

using nlohmann::ordered_json;

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

ordered_json file_hashes(const std::string& dir, const std::vector<std::string>& names, const std::string& ext) {
  std::vector<std::string> files;
  for (const auto& n : names)
    if (fs::exists(fs::path(dir) / n)) files.push_back((fs::path(dir) / n).string());
  if (!ext.empty() && fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ext) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  ordered_json out = ordered_json::array();
  for (const auto& f : files) out.push_back({{"path", f}, {"sha256", sha256_file(f)}});
  return out;
}

GenerationOptions generation_options(const Recipe& r, const Tokenizer& tok) {
  GenerationOptions o;
  const auto& e = r.eval;
  if (e.max_new_tokens < 1) throw Error("eval.max_new_tokens: " + expected_found("at least 1", std::to_string(e.max_new_tokens)));
  if (e.batch_size < 1) throw Error("eval.batch_size: " + expected_found("at least 1", std::to_string(e.batch_size)));
  if (e.decoding == Decoding::Sample && !(e.temperature > 0))
    throw Error("eval.temperature: " + expected_found("a number > 0 when decoding: sample", std::to_string(e.temperature)));
  if (e.top_k < 0) throw Error("eval.top_k: " + expected_found("0 (off) or more", std::to_string(e.top_k)));
  if (!(e.top_p > 0 && e.top_p <= 1)) throw Error("eval.top_p: " + expected_found("a number in (0, 1]", std::to_string(e.top_p)));
  if (!(e.repetition_penalty > 0))
    throw Error("eval.repetition_penalty: " + expected_found("a number > 0 (1 = off)", std::to_string(e.repetition_penalty)));
  o.max_new_tokens = e.max_new_tokens;
  o.prefix_cache_bytes = static_cast<int64_t>(e.prefix_cache_mb) << 20;
  o.sampling.do_sample = e.decoding == Decoding::Sample;
  o.sampling.temperature = e.temperature;
  o.sampling.top_k = e.top_k;
  o.sampling.top_p = e.top_p;
  o.sampling.repetition_penalty = e.repetition_penalty;
  if (tok.eos_id() >= 0) o.eos_ids.push_back(tok.eos_id());
  // A model's own chat template may close an answer with another token (<|eot_id|>, <|im_end|>).
  const ChatFormat format = sample_options_from_recipe(r).chat_template;
  const int32_t closing = format.jinja ? assistant_closing_token(*format.jinja, tok) : -1;
  if (closing >= 0 && closing != tok.eos_id()) o.eos_ids.push_back(closing);
  o.pad_id = tok.pad_id() >= 0 ? tok.pad_id() : (tok.eos_id() >= 0 ? tok.eos_id() : 0);
  return o;
}

// What must match for an interrupted evaluation to be continued.
ordered_json settings_fingerprint(const EvalRequest& q) {
  const Recipe& r = q.recipe;
  ordered_json j;
  j["model"] = r.model.path;
  j["adapter"] = q.adapter_dir;
  // The adapter's contents, not only its path: a replaced adapter must not mix two models in one
  // predictions.jsonl.
  ordered_json adapter_sha = ordered_json::array();
  if (!q.adapter_dir.empty())
    for (const auto& f : file_hashes(q.adapter_dir, {"adapter_config.json", "adapter_model.safetensors"}, ""))
      adapter_sha.push_back(f["sha256"]);
  j["adapter_sha256"] = adapter_sha;
  j["tokenizer"] = recipe_tokenizer_location(r);
  j["dtype"] = r.model.dtype;
  j["chat_template"] = r.model.chat_template;
  j["data"] = r.data.path;
  j["lang"] = r.data.lang;
  j["task"] = r.data.task;
  j["test_fraction"] = r.data.test_fraction;
  j["max_seq_len"] = r.data.max_seq_len;
  j["context"] = r.data.context;
  j["instruction"] = r.data.instruction;
  j["markers"] = r.data.markers;
  j["missing_annotation"] = r.data.missing_annotation;
  j["seed"] = r.seed;
  j["max_new_tokens"] = r.eval.max_new_tokens;
  j["decoding"] = r.eval.decoding;
  j["temperature"] = r.eval.temperature;
  j["top_k"] = r.eval.top_k;
  j["top_p"] = r.eval.top_p;
  j["repetition_penalty"] = r.eval.repetition_penalty;
  j["batch_size"] = r.eval.batch_size;
  j["max_samples"] = r.eval.max_samples;
  return j;
}

// eval.judge as the judge's settings: device and seed are the recipe's.
judge::JudgeModelSettings judge_settings(const Recipe& r) {
  judge::JudgeModelSettings s;
  s.model = r.eval.judge.model;
  s.chat_template = r.eval.judge.chat_template;
  s.dtype = choice_name(r.eval.judge.dtype);
  s.device = r.first_device().str();
  s.max_new_tokens = r.eval.judge.max_new_tokens;
  s.temperature = r.eval.judge.temperature;
  s.seed = static_cast<uint64_t>(r.seed);
  s.batch_size = r.eval.judge.batch_size;
  s.max_history_chars = r.eval.judge.max_history_chars;
  return s;
}

PredictionRecord make_record(const EvalExample& e, const Tokenizer& tok, const std::vector<int32_t>& generated,
                             const CotMarkers& markers) {
  PredictionRecord r;
  r.id = e.id;
  r.session = e.prompt.session_id;
  r.turn = e.prompt.turn_id;
  r.task = e.prompt.task;
  r.prompt = tok.decode(e.prompt.input_ids, true);
  r.retrieved = e.prompt.retrieved;
  r.gold = e.prompt.gold;
  r.generation = tok.decode(generated, false);
  r.new_tokens = static_cast<long>(generated.size());
  const GeneratedCot g = interpret_generation(r.generation, r.task, r.gold, markers);
  r.parsed = {g.parsed.observation, g.parsed.reasoning, g.parsed.response};
  r.well_formed = g.well_formed;
  return r;
}

// The recipe's model, loaded, or the one q.base already holds (psy eval --checkpoints).
Decoder base_model(const EvalRequest& q, torch::Device device) {
  DecoderOptions dopt;
  dopt.device = device;
  dopt.dtype = scalar_type_of(q.recipe.model.dtype);
  if (!q.base) return load_decoder(q.recipe.model.path, dopt);
  if (!q.base->decoder || q.base->path != q.recipe.model.path) {
    q.base->decoder = load_decoder(q.recipe.model.path, dopt);
    q.base->path = q.recipe.model.path;
  }
  return q.base->decoder;
}

// What an evaluation reads before it writes anything: the tokenizer, the decoding and scoring
// settings, the held-out examples (the recipe's split) and the chain-of-thought markers.
struct EvalInputs {
  Tokenizer tokenizer;
  GenerationOptions gen;
  PredictionScoring scoring;
  HeldOutSet held;
  CotMarkers markers;
};

EvalInputs eval_inputs(const EvalRequest& q) {
  const Recipe& recipe = q.recipe;
  Tokenizer tokenizer = Tokenizer::load(recipe_tokenizer_location(recipe));
  GenerationOptions gen = generation_options(recipe, tokenizer);
  PredictionScoring scoring = prediction_scoring_from_recipe(recipe, tokenizer.vocab_size(), q.score_threads);
  HeldOutSet held = held_out_examples(recipe, tokenizer, eval_prompt_budget(recipe),  // rag: training index
                                      [&recipe](const std::vector<Session>& train, const std::vector<Session>& q) {
                                        return retrieve_for_recipe(recipe, train, q);
                                      });
  CotMarkers markers = sample_format(sample_options_from_recipe(recipe)).markers;
  return {std::move(tokenizer), std::move(gen), std::move(scoring), std::move(held), std::move(markers)};
}

// The predictions already written for these settings (the run continues after them), or none
// (--overwrite, or a first run). A cut-off last line is dropped; the file is rewritten without it
// and without stale scores, ready to be appended to.
std::vector<PredictionRecord> resume_or_start(const EvalRequest& q, const RunFolder& run,
                                              const ordered_json& fingerprint, const HeldOutSet& held) {
  const std::string predictions = run.predictions_path(), settings_path = run.eval_settings_path();
  std::vector<PredictionRecord> records;
  if (q.overwrite) {
    fs::remove(predictions);
    fs::remove(run.metrics_path());
    return records;
  }
  if (!fs::exists(predictions)) return records;
  if (!fs::exists(settings_path))
    throw Error(predictions + " exists but " + settings_path +
                " does not (not written by psy eval?): use --overwrite to start again");
  const auto before = read_json_file(settings_path);
  for (auto it = fingerprint.begin(); it != fingerprint.end(); ++it) {
    const auto b = before.find(it.key());
    if (b == before.end() || *b != nlohmann::json(*it))
      throw Error(predictions + " was made with other settings (" + it.key() + ": " +
                  (b == before.end() ? std::string("absent") : b->dump()) + " then, " + it->dump() +
                  " now): use --overwrite to start again, or --out another folder");
  }
  size_t partial = 0;
  records = read_predictions(predictions, &partial);
  if (records.size() > held.examples.size())
    throw Error(predictions + ": " + expected_found("at most " + std::to_string(held.examples.size()) + " predictions",
                                                   std::to_string(records.size())));
  for (size_t i = 0; i < records.size(); ++i)
    if (records[i].id != held.examples[i].id)
      throw Error(predictions + ":" + std::to_string(i + 1) + ": id " +
                  expected_found("'" + held.examples[i].id + "'", "'" + records[i].id + "'") +
                  " (the held-out set changed): use --overwrite to start again");
  for (auto& r : records) {  // scores are recomputed at the end
    r.scores.clear();
    r.section_scores.clear();
  }
  write_file_atomic(predictions, [&](std::ostream& o) {
    for (const auto& r : records) o << to_json(r).dump() << "\n";
  });
  if (partial && !q.quiet) std::cerr << "psy eval: dropped a cut-off last line of " << predictions << "\n";
  return records;
}

// Generates the held-out examples after the records already there, appending each line to
// predictions.jsonl in input order as it completes; returns how many it generated.
size_t generate_missing(const EvalRequest& q, const EvalInputs& in, torch::Device device,
                        const std::string& predictions, std::vector<PredictionRecord>& records) {
  const Recipe& recipe = q.recipe;
  const Tokenizer& tokenizer = in.tokenizer;
  const GenerationOptions& gen = in.gen;
  const HeldOutSet& held = in.held;
  Decoder decoder = base_model(q, device);
  if (decoder->config().vocab_size < tokenizer.vocab_size())
    throw Error("model " + recipe.model.path + ": vocab_size " + std::to_string(decoder->config().vocab_size) +
                " is smaller than the tokenizer's " + std::to_string(tokenizer.vocab_size()));
  for (auto& [path, projection] : decoder->projections()) projection->remove_lora();  // a reused base
  if (!q.adapter_dir.empty()) load_peft_adapter(*decoder, q.adapter_dir);
  decoder->eval();
  if (!q.quiet)
    std::cerr << "psy eval: " << held.examples.size() << " held-out therapist turns from " << held.test_sessions
              << " test sessions" << (records.empty() ? "" : ", " + std::to_string(records.size()) + " already done")
              << "; " << recipe.eval.decoding << " decoding, up to " << gen.max_new_tokens << " new tokens, batch "
              << recipe.eval.batch_size << ", " << device.str() << "\n";
  std::ofstream append(predictions, std::ios::binary | std::ios::app);
  if (!append) throw Error(predictions + ": cannot open for writing", kExitFailure);
  EvalProgress progress(records.size(), held.examples.size(), q.quiet, q.progress_tty);
  // Continuous batching over eval.batch_size slots. Lines are written in input order as they
  // complete, so a resumed run continues at the first unwritten example; sampling is seeded per
  // example (recipe seed and example id), so what it draws does not depend on the slots.
  const size_t first = records.size();
  std::vector<std::vector<int64_t>> prompts;
  for (size_t i = first; i < held.examples.size(); ++i)
    prompts.emplace_back(held.examples[i].prompt.input_ids.begin(), held.examples[i].prompt.input_ids.end());
  InputOrder<GeneratedRow> in_order(0, [&](std::size_t k, GeneratedRow& row) {
    std::vector<int32_t> ids;
    for (int64_t t : row.new_ids)
      if (std::find(gen.eos_ids.begin(), gen.eos_ids.end(), t) == gen.eos_ids.end()) ids.push_back(static_cast<int32_t>(t));
    records.push_back(make_record(held.examples[first + k], tokenizer, ids, in.markers));
    // One write per line: `<< line << "\n"` wrote a line over 1 KiB and its newline in two
    // system calls, and a kill between them left a torn line.
    const std::string line = to_json(records.back()).dump() + "\n";
    append.write(line.data(), static_cast<std::streamsize>(line.size()));
    append.flush();
    if (!append)  // errno from the failed write: ENOSPC, EFBIG (ulimit -f), EIO...
      throw Error(predictions + ": write failed (" + std::strerror(errno) +
                      "); run again to continue from the last complete line",
                  kExitFailure);
    progress.update(records.size());
  });
  const uint64_t seed = static_cast<uint64_t>(recipe.seed) * 0x9E3779B97F4A7C15ull + 1;
  const ContinuousStats stats =
      generate_continuous(*decoder, prompts, gen, recipe.eval.batch_size,
                          [&](std::size_t k) { return fnv1a(held.examples[first + k].id, seed); },
                          [&](std::size_t k, GeneratedRow row) { in_order.put(k, std::move(row)); });
  progress.finish();
  if (!q.quiet && stats.reused_prompt_tokens > 0)
    std::cerr << "psy eval: " << stats.reused_prompt_tokens << " of " << stats.prompt_tokens
              << " prompt tokens reused from earlier prompts' keys/values (eval.prefix_cache_mb)\n";
  return records.size() - first;
}

// metrics.json: the scores, and everything needed to tell what was evaluated (settings, files
// and their hashes, the split).
ordered_json metrics_json(const EvalRequest& q, const EvalInputs& in, size_t parse_failures, const ordered_json& scored,
                          const ordered_json& fingerprint, torch::Device device, const EvalOutcome& out) {
  const Recipe& recipe = q.recipe;
  const HeldOutSet& held = in.held;
  ordered_json m;
  m["name"] = recipe.name;
  m["task"] = recipe.data.task;
  m["psy_version"] = eval::psy_version();
  m["protocol"] = recipe.eval.protocol;
  m["lang"] = recipe.data.lang;
  m["n_examples"] = held.examples.size();
  m["metrics"] = scored["metrics"];
  m["sections"] = scored["sections"];
  m["cot_parse_rate"] = out.cot_parse_rate;
  m["parse_failures"] = parse_failures;
  m["empty_responses"] = scored.value("empty_hyp", 0);
  ordered_json settings = fingerprint;
  settings["device"] = device.str();
  settings["metrics"] = in.scoring.options.metrics;
  settings["bertscore_model"] = recipe.eval.bertscore_model;
  settings["max_prompt_tokens"] = eval_prompt_budget(recipe);
  m["settings"] = settings;
  m["model"] = {{"path", recipe.model.path},
                {"files", file_hashes(recipe.model.path, {"config.json"}, ".safetensors")}};
  if (q.adapter_dir.empty())
    m["adapter"] = nullptr;
  else
    m["adapter"] = {{"path", q.adapter_dir},
                    {"files", file_hashes(q.adapter_dir, {"adapter_config.json", "adapter_model.safetensors"}, "")}};
  ordered_json data;
  data["files"] = ordered_json::array();
  for (const auto& f : recipe.data.path) data["files"].push_back({{"path", f}, {"sha256", sha256_file(f)}});
  data["sessions"] = {{"all", held.sessions}, {"train", held.train_sessions}, {"test", held.test_sessions},
                      {"skipped", held.skipped_sessions}};
  data["test_dialog_ids"] = held.test_dialog_ids;
  data["prompts_available"] = held.available;
  data["prompts_too_long"] = held.dropped_too_long;
  m["data"] = data;
  m["resumed"] = out.resumed;
  m["notes"] = in.scoring.notes;
  return m;
}

// The rubric judge over the final predictions.jsonl; returns its summaries' paths.
std::vector<std::string> judge_predictions(const EvalRequest& q, const std::string& predictions) {
  judge::JudgeRequest jq;
  jq.predictions_path = predictions;
  jq.rubric_paths = q.recipe.eval.judge.rubrics;
  jq.out_dir = q.out_dir;
  jq.judge = judge_settings(q.recipe);
  jq.overwrite = q.overwrite;
  jq.quiet = q.quiet;
  std::vector<std::string> paths;
  for (const auto& o : judge::run_judge(jq)) {
    paths.push_back(o.summary_path);
    if (!q.quiet)
      std::cerr << "psy eval: judge " << o.rubric << ": " << o.summary["n_scored"].dump() << " of "
                << o.summary["n_examples"].dump() << " scored, " << o.summary["n_unscored"].dump() << " unscored -> "
                << o.summary_path << "\n";
  }
  return paths;
}

}  // namespace

std::string recipe_tokenizer_location(const Recipe& r) { return r.tokenizer_location(); }

EvalOutcome run_evaluation(const EvalRequest& q) {
  const Recipe& recipe = q.recipe;
  if (recipe.model.path.empty()) throw Error(recipe.source_path + ": model.path must name a Hugging Face model folder");
  if (q.out_dir.empty()) throw Error("psy eval: no output folder (recipe output or --out)");
  if (!recipe.eval.judge.model.empty())  // a bad judge setting fails now, not after generating
    judge::check_judge_settings(recipe.eval.judge.rubrics, judge_settings(recipe));
  const EvalInputs in = eval_inputs(q);

  EvalOutcome out;
  out.examples = in.held.examples.size();
  const RunFolder run(q.out_dir);
  out.predictions_path = run.predictions_path();
  out.metrics_path = run.metrics_path();
  fs::create_directories(q.out_dir);

  const ordered_json fingerprint = settings_fingerprint(q);
  std::vector<PredictionRecord> records = resume_or_start(q, run, fingerprint, in.held);
  write_file_atomic(run.eval_settings_path(), fingerprint.dump(2) + "\n");
  out.resumed = records.size();

  const torch::Device device = torch_device(recipe.first_device());
  if (records.size() < in.held.examples.size())  // the model is loaded only when something is left
    out.generated = generate_missing(q, in, device, out.predictions_path, records);

  // Scores, then the final files.
  const ordered_json scored = score_predictions(records, in.scoring);
  write_file_atomic(out.predictions_path, [&](std::ostream& o) {
    for (const auto& r : records) o << to_json(r).dump() << "\n";
  });
  size_t well_formed = 0;
  for (const auto& r : records) well_formed += r.well_formed ? 1 : 0;
  out.cot_parse_rate = records.empty() ? 0.0 : static_cast<double>(well_formed) / static_cast<double>(records.size());
  out.metrics = metrics_json(q, in, records.size() - well_formed, scored, fingerprint, device, out);
  write_file_atomic(out.metrics_path, out.metrics.dump(2) + "\n");
  if (!recipe.eval.judge.model.empty()) out.judge_paths = judge_predictions(q, out.predictions_path);
  return out;
}

}  // namespace psy
