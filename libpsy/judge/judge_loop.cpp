#include "libpsy/judge/judge_loop.h"

#include <algorithm>
#include <initializer_list>
#include <map>

#include "libpsy/core/error.h"
#include "libpsy/judge/judge_answer.h"
#include "libpsy/train/file_hash.h"

namespace psy::judge {

namespace {

std::string tail_of(const std::string& s, size_t max_bytes) {
  if (max_bytes == 0 || s.size() <= max_bytes) return s;
  size_t start = s.size() - max_bytes;
  while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;  // a continuation byte
  return "[...] " + s.substr(start);
}

}  // namespace

std::vector<JudgeItem> judge_items(const std::vector<PredictionRecord>& predictions, const std::string& settings,
                                   size_t max_history_chars) {
  std::vector<JudgeItem> out;
  out.reserve(predictions.size());
  for (const auto& p : predictions) {
    JudgeItem item;
    item.id = p.id;
    item.input.history = tail_of(p.prompt, max_history_chars);
    item.input.reply = p.parsed.response.empty() ? p.generation : p.parsed.response;
    item.input.reference = p.gold.response;
    item.input.observation = p.parsed.observation.empty() ? "(none)" : p.parsed.observation;
    item.input.reasoning = p.parsed.reasoning.empty() ? "(none)" : p.parsed.reasoning;
    const JudgeInput& in = item.input;
    std::string fingerprint = settings;
    for (const std::string* s : std::initializer_list<const std::string*>{&item.id, &in.history, &in.reply, &in.reference, &in.observation, &in.reasoning})
      fingerprint += "\x1f" + std::to_string(s->size()) + ":" + *s;
    item.key = sha256_hex(fingerprint).substr(0, 16);
    out.push_back(std::move(item));
  }
  return out;
}

LoopOutcome judge_all(const Rubric& rubric, const std::vector<JudgeItem>& items, const std::vector<Judgement>& previous,
                      const Answerer& answer, const LoopOptions& options) {
  std::map<std::string, const Judgement*> earlier;
  for (const auto& j : previous) earlier[j.id] = &j;
  LoopOutcome out;
  out.judgements.resize(items.size());
  std::vector<size_t> todo;
  for (size_t i = 0; i < items.size(); ++i) {
    auto it = earlier.find(items[i].id);
    if (it != earlier.end() && it->second->key == items[i].key) {
      out.judgements[i] = *it->second;
      ++out.reused;
    } else {
      todo.push_back(i);
    }
  }
  // What is on disk: the reused judgements, then each batch as it is done (item order kept).
  std::vector<bool> done(items.size(), true);
  for (size_t i : todo) done[i] = false;
  auto save = [&] {
    if (options.judgements_path.empty()) return;
    std::vector<Judgement> finished;
    for (size_t i = 0; i < items.size(); ++i)
      if (done[i]) finished.push_back(out.judgements[i]);
    write_judgements(options.judgements_path, finished);
  };
  if (todo.empty() || out.reused > 0) save();  // drops stale lines of an earlier run

  const size_t batch = std::max<size_t>(1, options.batch_size);
  for (size_t start = 0; start < todo.size(); start += batch) {
    const size_t end = std::min(todo.size(), start + batch);
    std::vector<std::vector<JudgeMessage>> conversations;
    for (size_t k = start; k < end; ++k) conversations.push_back(judge_messages(rubric, items[todo[k]].input));
    std::vector<std::string> first = answer(conversations);
    if (first.size() != conversations.size())
      throw Error("judge: the answerer gave " + std::to_string(first.size()) + " answers for " +
                      std::to_string(conversations.size()) + " questions",
                  kExitFailure);
    std::vector<size_t> retry;  // positions in this batch
    std::vector<std::vector<JudgeMessage>> retry_conversations;
    for (size_t k = start; k < end; ++k) {
      Judgement& j = out.judgements[todo[k]];
      j = Judgement{};
      j.id = items[todo[k]].id;
      j.key = items[todo[k]].key;
      j.answers.push_back(first[k - start]);
      const JudgeAnswer a = parse_judge_answer(first[k - start], rubric);
      if (a.ok) {
        j.scored = true;
        j.scores = a.scores;
        continue;
      }
      j.problems.push_back(a.problem);
      auto c = conversations[k - start];
      c.push_back({"assistant", first[k - start]});
      c.push_back({"user", retry_message(rubric, a.problem)});
      retry.push_back(k);
      retry_conversations.push_back(std::move(c));
    }
    if (!retry.empty()) {
      std::vector<std::string> second = answer(retry_conversations);
      if (second.size() != retry_conversations.size())
        throw Error("judge: the answerer gave " + std::to_string(second.size()) + " answers for " +
                        std::to_string(retry_conversations.size()) + " questions",
                    kExitFailure);
      for (size_t r = 0; r < retry.size(); ++r) {
        Judgement& j = out.judgements[todo[retry[r]]];
        j.answers.push_back(second[r]);
        const JudgeAnswer a = parse_judge_answer(second[r], rubric);
        if (a.ok) {
          j.scored = true;
          j.scores = a.scores;
        } else {
          j.problems.push_back(a.problem);
        }
      }
    }
    for (size_t k = start; k < end; ++k) done[todo[k]] = true;
    out.judged += end - start;
    save();
    if (options.on_progress) options.on_progress(out.reused + out.judged, items.size());
  }
  return out;
}

}  // namespace psy::judge
