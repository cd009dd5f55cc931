#include "libpsy/judge/judge_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <torch/torch.h>

#include "eval/scoring.h"
#include "libpsy/core/atomic_file.h"
#include "libpsy/core/error.h"
#include "libpsy/core/text_file.h"
#include "libpsy/evaluate/prediction_record.h"
#include "libpsy/io/hf_config.h"
#include "libpsy/generate/chat_prompt.h"
#include "libpsy/generate/generator.h"
#include "libpsy/judge/judge_loop.h"
#include "libpsy/judge/judge_summary.h"
#include "libpsy/judge/judgement.h"
#include "libpsy/judge/rubric.h"
#include "libpsy/nn/decoder.h"
#include "libpsy/nn/load_decoder.h"
#include "libpsy/nn/placement.h"
#include "libpsy/text/tokenizer.h"
#include "libpsy/train/file_hash.h"

namespace fs = std::filesystem;

namespace psy::judge {

namespace {

using nlohmann::ordered_json;

std::string tokenizer_location(const JudgeModelSettings& s) { return s.tokenizer.empty() ? s.model : s.tokenizer; }

// The files that decide what the judge answers: config, weights, tokenizer and template.
ordered_json model_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const char* name : {"config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                           "chat_template.jinja", "special_tokens_map.json"})
    if (fs::exists(fs::path(dir) / name)) files.push_back((fs::path(dir) / name).string());
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  ordered_json out = ordered_json::array();
  for (const auto& f : files) out.push_back({{"path", f}, {"sha256", sha256_file(f)}});
  return out;
}

std::string short_hash(const std::string& text) { return sha256_hex(text).substr(0, 12); }

std::string folder_name(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return fs::path(dir).filename().string();
}

std::string template_fingerprint(const JudgeModelSettings& s, const std::optional<ChatFormat>& format) {
  if (!format) return "none";
  if (format->jinja) return std::string("auto@") + short_hash(format->jinja->source());
  return chat_template_name(*format);
}

ChatRole role_of(const std::string& role) {
  if (role == "system") return ChatRole::System;
  if (role == "assistant") return ChatRole::Assistant;
  return ChatRole::User;
}

// The judge model, loaded on first use.
class ModelAnswerer {
 public:
  ModelAnswerer(const JudgeModelSettings& s, const Tokenizer& tok, const std::optional<ChatFormat>& format, bool quiet)
      : s_(s), tok_(tok), format_(format), quiet_(quiet) {}

  std::vector<std::string> operator()(const std::vector<std::vector<JudgeMessage>>& conversations) {
    if (!loaded_) load();
    std::vector<std::string> answers(conversations.size());
    std::vector<std::vector<int64_t>> prompts;
    std::vector<size_t> which;
    const int64_t context = decoder_->config().max_position_embeddings;
    for (size_t i = 0; i < conversations.size(); ++i) {
      std::vector<ChatMessage> messages;
      for (const auto& m : conversations[i]) {
        ChatMessage c;
        c.role = role_of(m.role);
        c.parts.push_back({m.content, c.role == ChatRole::Assistant ? "response" : "client", false});
        messages.push_back(std::move(c));
      }
      std::vector<int64_t> ids = generation_prompt_ids(tok_, format_, messages);
      if (static_cast<int64_t>(ids.size()) + s_.max_new_tokens > context) {
        // Not asked: the answer says why, so the example is counted as unscored with the reason.
        answers[i] = "[psy: the judge prompt has " + std::to_string(ids.size()) + " tokens; with " +
                     std::to_string(s_.max_new_tokens) + " new tokens it exceeds the judge's context of " +
                     std::to_string(context) + " (lower max_history_chars)]";
        continue;
      }
      prompts.push_back(std::move(ids));
      which.push_back(i);
    }
    if (prompts.empty()) return answers;
    options_.seed = s_.seed + calls_++;
    const GenerationResult result = generate(*decoder_, prompts, options_);
    for (size_t k = 0; k < which.size(); ++k) answers[which[k]] = result.rows[k].text;
    return answers;
  }

 private:
  void load() {
    DecoderOptions o;
    o.dtype = parse_model_dtype(s_.dtype);
    o.device = parse_device(s_.device, "judge device");
    if (!quiet_) std::cerr << "psy judge: loading " << s_.model << " (" << s_.dtype << ", " << s_.device << ")\n";
    decoder_ = load_decoder(s_.model, o);
    decoder_->eval();
    loaded_ = true;
    options_.max_new_tokens = s_.max_new_tokens;
    options_.sampling.do_sample = s_.temperature > 0;
    options_.sampling.temperature = s_.temperature > 0 ? s_.temperature : 1.0;
    options_.eos_ids = stop_token_ids(decoder_->config(), tok_, format_);
    options_.pad_id = tok_.pad_id() >= 0 ? tok_.pad_id() : decoder_->config().pad_token_id.value_or(0);
    const Tokenizer* tok = &tok_;
    options_.detokenize = [tok](const std::vector<int64_t>& ids) {
      return tok->decode(std::vector<int32_t>(ids.begin(), ids.end()), /*render_special=*/false);
    };
  }

  const JudgeModelSettings& s_;
  const Tokenizer& tok_;
  const std::optional<ChatFormat>& format_;
  bool quiet_;
  Decoder decoder_{nullptr};
  bool loaded_ = false;
  GenerationOptions options_;
  uint64_t calls_ = 0;
};

void check_range(const std::string& key, double v, double lo, double hi, const std::string& expected) {
  if (!(v >= lo && v <= hi) || std::isnan(v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    throw Error("judge " + key + ": " + expected_found(expected, buf));
  }
}

}  // namespace

void check_judge_settings(const std::vector<std::string>& rubric_paths, const JudgeModelSettings& s) {
  if (rubric_paths.empty()) throw Error("judge: no rubric (expected one or more rubric files, e.g. rubrics/cpsycoun.yaml)");
  std::vector<Rubric> rubrics;
  for (const auto& p : rubric_paths) {
    rubrics.push_back(load_rubric(p));
    for (size_t k = 0; k + 1 < rubrics.size(); ++k)
      if (rubrics[k].name == rubrics.back().name)
        throw Error(p + ": rubric name '" + rubrics.back().name + "' is also the name of " + rubrics[k].path +
                    " (their output files would collide)");
  }
  if (s.model.empty()) throw Error("judge: no model (expected a Hugging Face chat model folder)");
  if (!fs::is_directory(s.model))
    throw Error("judge model " + s.model + ": no such folder (expected a Hugging Face chat model folder with config.json)");
  if (!fs::exists(fs::path(s.model) / "config.json"))
    throw Error("judge model " + s.model + ": no config.json (expected a Hugging Face chat model folder)");
  const std::string tok = tokenizer_location(s);
  if (!fs::exists(tok) || (fs::is_directory(tok) && !fs::exists(fs::path(tok) / "tokenizer.json") &&
                           !fs::exists(fs::path(tok) / "tokenizer.model")))
    throw Error("judge tokenizer " + tok + ": " + expected_found("tokenizer.json or tokenizer.model", "neither"));
  check_range("max_new_tokens", static_cast<double>(s.max_new_tokens), 1, 1 << 20, "1 to 1048576");
  check_range("temperature", s.temperature, 0, 1e6, "a number >= 0 (0 = greedy)");
  check_range("batch_size", static_cast<double>(s.batch_size), 1, 65536, "1 to 65536");
  check_range("max_history_chars", static_cast<double>(s.max_history_chars), 0, 1e12, "0 (whole) or more");
  check_range("bootstrap", s.bootstrap, 0, 1e7, "0 (no intervals) to 10000000");
  parse_model_dtype(s.dtype);
  const torch::Device device = parse_device(s.device, "judge device");
  if (s.dtype == "fp16" && !device.is_cuda())
    throw Error("judge dtype: " + expected_found("bf16 or fp32 on " + s.device + " (fp16 needs a CUDA device)", "fp16"));
  if (s.chat_template != "none") resolve_chat_format(s.chat_template, s.model, {}, "judge chat template");
  // What loading would find wrong, found now (psy eval judges after generating everything).
  load_decoder_config((fs::path(s.model) / "config.json").string());
  bool weights = false;
  for (const auto& e : fs::directory_iterator(s.model)) weights = weights || e.path().extension() == ".safetensors";
  if (!weights) throw Error("judge model " + s.model + ": " + expected_found("*.safetensors weights", "none"));
  Tokenizer::load(tok);
}

namespace {

std::vector<PredictionRecord> judge_predictions(const std::string& path) {
  if (!fs::exists(path)) throw Error(path + ": no such predictions file (expected predictions.jsonl as psy eval writes it)");
  size_t partial = 0;
  std::vector<PredictionRecord> predictions = read_predictions(path, &partial);
  if (partial)
    throw Error(path + ": the last line is cut off (an interrupted psy eval?): " +
                expected_found("one complete JSON object per line", "a partial last line"));
  if (predictions.empty()) throw Error(path + ": no predictions (expected one JSON object per line)");
  return predictions;
}

}  // namespace

void check_judge_request(const JudgeRequest& q) {
  judge_predictions(q.predictions_path);
  check_judge_settings(q.rubric_paths, q.judge);
}

std::vector<RubricOutcome> run_judge(const JudgeRequest& q) {
  const JudgeModelSettings& s = q.judge;
  const std::vector<PredictionRecord> predictions = judge_predictions(q.predictions_path);
  check_judge_settings(q.rubric_paths, s);
  std::vector<Rubric> rubrics;
  for (const auto& p : q.rubric_paths) rubrics.push_back(load_rubric(p));
  const std::string out_dir = q.out_dir.empty() ? fs::path(q.predictions_path).parent_path().string() : q.out_dir;
  if (!out_dir.empty()) make_dirs(out_dir);
  const std::string predictions_sha = sha256_file(q.predictions_path);

  const Tokenizer tok = Tokenizer::load(tokenizer_location(s));
  const std::optional<ChatFormat> format = parse_optional_chat_template(s.chat_template, s.model);
  const ordered_json files = model_files(s.model);
  std::string weights;
  for (const auto& f : files) weights += f["sha256"].get<std::string>();
  const std::string decoding =
      s.temperature > 0 ? "sample(t=" + std::to_string(s.temperature) + ",seed=" + std::to_string(s.seed) + ")" : "greedy";
  ModelAnswerer model(s, tok, format, q.quiet);

  std::vector<RubricOutcome> outcomes;
  for (const auto& rubric : rubrics) {
    RubricOutcome o;
    o.rubric = rubric.name;
    o.judgements_path = (fs::path(out_dir) / ("judgements_" + rubric.name + ".jsonl")).string();
    o.summary_path = (fs::path(out_dir) / ("judge_" + rubric.name + ".json")).string();
    const std::string signature = "judge:" + rubric.name + "|rubric:sha256:" + rubric.sha256.substr(0, 12) +
                                  "|model:" + folder_name(s.model) + "@" + short_hash(weights) +
                                  "|template:" + template_fingerprint(s, format) + "|dtype:" + s.dtype +
                                  "|decoding:" + decoding + "|max_new_tokens:" + std::to_string(s.max_new_tokens) +
                                  "|history_chars:" + std::to_string(s.max_history_chars) +
                                  "|retry:1|psy:" + eval::psy_version();
    const auto items = judge_items(predictions, signature, static_cast<size_t>(s.max_history_chars));
    const std::vector<Judgement> previous = q.overwrite ? std::vector<Judgement>{} : read_judgements(o.judgements_path);
    const auto start = std::chrono::steady_clock::now();
    LoopOptions lo;
    lo.batch_size = static_cast<size_t>(s.batch_size);
    lo.judgements_path = o.judgements_path;
    if (!q.quiet)
      lo.on_progress = [&rubric](size_t done, size_t total) {
        std::cerr << "psy judge: " << rubric.name << " " << done << "/" << total << "\n";
      };
    Answerer answer = [&model](const std::vector<std::vector<JudgeMessage>>& c) { return model(c); };
    const LoopOutcome loop = judge_all(rubric, items, previous, answer, lo);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    o.reused = loop.reused;
    o.judged = loop.judged;

    ordered_json j;
    j["rubric"] = {{"name", rubric.name}, {"title", rubric.title}, {"path", rubric.path}, {"sha256", rubric.sha256}};
    ordered_json judge;
    judge["model"] = s.model;
    judge["files"] = files;
    judge["tokenizer"] = tokenizer_location(s);
    judge["chat_template"] = template_fingerprint(s, format);
    judge["dtype"] = s.dtype;
    judge["device"] = s.device;
    judge["decoding"] = decoding;
    judge["max_new_tokens"] = s.max_new_tokens;
    judge["max_history_chars"] = s.max_history_chars;
    judge["batch_size"] = s.batch_size;
    j["judge"] = judge;
    j["signature"] = signature;
    j["predictions"] = {{"path", q.predictions_path}, {"sha256", predictions_sha}};
    const ordered_json summary = summarize_judgements(rubric, loop.judgements, s.bootstrap, static_cast<uint64_t>(s.seed));
    for (auto it = summary.begin(); it != summary.end(); ++it) j[it.key()] = it.value();
    j["bootstrap"] = {{"resamples", s.bootstrap}, {"seed", s.seed}, {"level", 0.95}};
    j["reused"] = loop.reused;
    j["judged"] = loop.judged;
    j["seconds"] = seconds;
    j["seconds_per_example"] = loop.judged ? seconds / static_cast<double>(loop.judged) : 0.0;
    write_file_atomic(o.summary_path, j.dump(2) + "\n");
    o.summary = j;
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace psy::judge
