#include "libpsy/data/sample_builder.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "libpsy/core/error.h"
#include "libpsy/core/rng.h"
#include "libpsy/text/segment_encoder.h"

namespace psy {

namespace {

// Consecutive turns of one speaker. Blocks alternate user, assistant, user, ... starting with a
// (possibly empty) user block.
struct Block {
  bool therapist = false;
  std::vector<size_t> turns;  // indices into Session::turns
};

std::vector<Block> make_blocks(const Session& s) {
  std::vector<Block> blocks;
  for (size_t i = 0; i < s.turns.size(); ++i) {
    const bool th = s.turns[i].is_therapist();
    if (blocks.empty() && th) blocks.push_back(Block{false, {}});
    if (blocks.empty() || blocks.back().therapist != th) blocks.push_back(Block{th, {}});
    blocks.back().turns.push_back(i);
  }
  return blocks;
}

uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) {
    if (i.empty()) continue;
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

const std::string& session_field(const Session& s, const std::string& name) {
  if (name == "background") return s.background;
  if (name == "guide") return s.guide;
  if (name == "topic") return s.topic;
  if (name == "psychotherapy") return s.psychotherapy;
  return s.theme;  // "theme"
}

// One therapist turn rendered as message parts (target flags set at assembly).
struct TurnRender {
  std::vector<MessagePart> parts;
  bool empty_response = false;
  bool missing_observation = false;  // needed but absent
  bool missing_reasoning = false;
  int placeholders = 0;
  CotSections gold;
};

// A session rendered for one dialog task: system parts, user parts per block, turn renders per
// therapist block.
struct Conversation {
  std::vector<MessagePart> system;
  std::vector<std::vector<MessagePart>> user;        // per pair k
  std::vector<std::vector<TurnRender>> assistant;    // per pair k, per turn p
  std::vector<std::vector<size_t>> turn_index;       // per pair k, per turn p: index into Session::turns
};

class Builder {
 public:
  Builder(const SampleOptions& o, const Tokenizer& tok, const RetrievedCases* rc = nullptr)
      : o_(o), f_(sample_format(o)), tok_(tok), enc_(tok), rc_(rc) {}

  SampleStats stats;
  size_t session_index = 0;  // of the session being built, in the caller's list

  SampleTask dialog_task_for(const Session& s, const std::string& turn_id) const {
    if (o_.task != SampleTask::Mix) return o_.task;
    std::vector<SampleTask> variants;
    for (SampleTask t : o_.mix_tasks)
      if (is_dialog_task(t)) variants.push_back(t);
    if (variants.empty()) return SampleTask::Mix;  // no dialog samples
    uint64_t h = fnv1a(turn_id, fnv1a("\x1f", fnv1a(s.dialog_id)));
    Rng rng(h ^ o_.seed);
    return variants[static_cast<size_t>(rng.uniform_below(variants.size()))];
  }

  std::vector<MessagePart> system_parts(const Session& s, SampleTask task, const std::vector<std::string>& exclude) const {
    std::vector<MessagePart> parts;
    std::string instruction = task_instruction(f_, task_name(task));
    if (!instruction.empty()) parts.push_back({instruction, "instruction", false});
    for (const auto& field : o_.context) {
      if (std::find(exclude.begin(), exclude.end(), field) != exclude.end()) continue;
      const std::string& value = session_field(s, field);
      if (value.empty()) continue;
      std::string text = (parts.empty() ? "" : "\n\n") + marker_prefix(f_.context_labels.at(field)) + value;
      parts.push_back({text, field, false});
    }
    return parts;
  }

  // Applies the missing-annotation policy to one section. Returns false when the section is left out.
  bool section_text(const std::string& value, std::string& out, bool& missing, int& placeholders) const {
    if (!value.empty()) {
      out = value;
      return true;
    }
    missing = true;
    if (o_.missing == MissingPolicy::Placeholder) {
      out = f_.placeholder;
      ++placeholders;
      return true;
    }
    return false;
  }

  TurnRender render_turn(const Session& s, const std::vector<size_t>& clients, size_t ti, bool first_in_block,
                         SampleTask task) const {
    TurnRender r;
    const Turn& t = s.turns[ti];
    r.gold.reasoning = t.reasoning;
    r.gold.response = t.content;
    const bool observation_applies = first_in_block && !clients.empty();
    if (observation_applies) {
      std::vector<std::string> obs;
      for (size_t c : clients) obs.push_back(s.turns[c].observation);
      r.gold.observation = join(obs, " ");
    }
    if (!first_in_block) r.parts.push_back({"\n", "separator", false});
    if (task == SampleTask::ObservationReasoningDialog && observation_applies) {
      std::string text;
      if (section_text(r.gold.observation, text, r.missing_observation, r.placeholders))
        r.parts.push_back({marker_prefix(f_.markers.observation) + text + "\n", "observation", false});
    }
    if (task == SampleTask::ObservationReasoningDialog || task == SampleTask::ReasoningDialog) {
      std::string text;
      if (section_text(t.reasoning, text, r.missing_reasoning, r.placeholders))
        r.parts.push_back({marker_prefix(f_.markers.reasoning) + text + "\n", "reasoning", false});
    }
    r.empty_response = t.content.empty();
    if (!r.empty_response) {
      std::string text = task == SampleTask::Dialog ? t.content : marker_prefix(f_.markers.response) + t.content;
      r.parts.push_back({text, "response", false});
    }
    return r;
  }

  Conversation conversation(const Session& s, SampleTask task) const {
    Conversation c;
    c.system = system_parts(s, task, {});
    auto blocks = make_blocks(s);
    for (size_t b = 0; b + 1 < blocks.size(); b += 2) {
      const Block& ub = blocks[b];
      const Block& ab = blocks[b + 1];
      std::vector<std::string> said;
      for (size_t i : ub.turns) said.push_back(s.turns[i].content);
      std::vector<MessagePart> user;
      std::string text = join(said, "\n");
      if (!text.empty()) user.push_back({text, "client", false});
      c.user.push_back(std::move(user));
      std::vector<TurnRender> turns;
      for (size_t p = 0; p < ab.turns.size(); ++p)
        turns.push_back(render_turn(s, ub.turns, ab.turns[p], p == 0, rendering_task(task)));
      c.assistant.push_back(std::move(turns));
      c.turn_index.push_back(ab.turns);
    }
    return c;
  }

  // Messages: system, pairs [first, k) in full, user k, and turns [0, p] of assistant k (turn p
  // a target when target_p; open when `open`, in which case turn p itself is left out).
  // `extra_system` (rag tasks: the retrieved cases) follows the system parts.
  std::vector<ChatMessage> turn_messages(const Conversation& c, size_t first, size_t k, size_t p, bool open,
                                         const std::vector<MessagePart>* extra_system = nullptr) const {
    std::vector<ChatMessage> m;
    m.push_back({ChatRole::System, c.system, false});
    if (extra_system) m.back().parts.insert(m.back().parts.end(), extra_system->begin(), extra_system->end());
    for (size_t i = first; i < k; ++i) {
      m.push_back({ChatRole::User, c.user[i], false});
      ChatMessage a{ChatRole::Assistant, {}, false};
      for (const auto& t : c.assistant[i]) a.parts.insert(a.parts.end(), t.parts.begin(), t.parts.end());
      m.push_back(std::move(a));
    }
    m.push_back({ChatRole::User, c.user[k], false});
    ChatMessage a{ChatRole::Assistant, {}, open};
    for (size_t q = 0; q < p; ++q) a.parts.insert(a.parts.end(), c.assistant[k][q].parts.begin(), c.assistant[k][q].parts.end());
    if (!open) {
      for (auto part : c.assistant[k][p].parts) {
        part.target = true;
        a.parts.push_back(std::move(part));
      }
    }
    m.push_back(std::move(a));
    return m;
  }

  size_t count(const std::vector<ChatMessage>& m) { return enc_.count(render_chat(o_.chat_template, m, tok_)); }

  // Smallest `first` in [0, k] whose messages fit `limit`; k + 1 when none does.
  template <typename MakeMessages>
  size_t fit_first(size_t k, size_t limit, MakeMessages make) {
    if (count(make(0)) <= limit) return 0;
    if (k == 0 || count(make(k)) > limit) return k + 1;
    size_t lo = 1, hi = k;  // count(make(hi)) fits
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (count(make(mid)) <= limit) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  // The sample of make(0) when it fits `limit`, else of make(first) for the smallest `first` in
  // [1, k] that fits (the fewest early history items dropped); nullopt when none fits. `first`
  // receives the number dropped (0 when whole).
  //
  // `hint` (optional) carries the `first` of the previous turn of the same conversation: a later
  // turn only adds history, so its boundary lies at or after the previous one and is found by
  // galloping forward from there, rendering about max_seq_len tokens per try instead of the whole
  // history. That keeps a 10,000-turn session linear instead of quadratic. Where history before
  // the hint fits again, the full search from 0 decides, as without a hint.
  template <typename MakeMessages>
  std::optional<TokenizedSample> fitted_sample(size_t k, size_t limit, MakeMessages make, const std::string& session_id,
                                               const std::string& turn_id, const std::string& task, size_t& first,
                                               size_t* hint = nullptr) {
    first = 0;
    const size_t h = hint ? std::min(*hint, k) : 0;
    std::optional<TokenizedSample> out;
    if (h > 0 && count(make(h)) > limit) {
      size_t lo = h, hi = h, step = 1;  // count(make(lo)) > limit
      for (;;) {
        hi = std::min(lo + step, k + 1);
        if (hi > k || count(make(hi)) <= limit) break;
        lo = hi;
        step *= 2;
      }
      if (hi > k) {  // make(k) was tried (or lo == k): nothing fits
        if (lo < k && count(make(k)) <= limit) hi = k;
        else return std::nullopt;
      }
      while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        if (count(make(mid)) <= limit) hi = mid;
        else lo = mid;
      }
      first = hi;
      out = tokenize(make(first), session_id, turn_id, task);
    } else if (h > 0 && count(make(h - 1)) > limit) {
      first = h;  // make(h) fits, make(h - 1) does not: the boundary did not move
      out = tokenize(make(first), session_id, turn_id, task);
    } else {
      TokenizedSample t = tokenize(make(0), session_id, turn_id, task);  // most fit whole: encode once
      if (t.size() <= limit) {
        out = std::move(t);
      } else {
        first = fit_first(k, limit, make);
        if (first > k) return std::nullopt;
        out = tokenize(make(first), session_id, turn_id, task);
      }
    }
    if (hint) *hint = first;
    return out;
  }

  float section_weight(const std::string& section) const {
    auto it = o_.section_weights.find(section);
    return it == o_.section_weights.end() ? 1.0f : static_cast<float>(it->second);
  }

  TokenizedSample tokenize(const std::vector<ChatMessage>& m, std::string session_id, std::string turn_id,
                           std::string task) {
    auto segs = render_chat(o_.chat_template, m, tok_);
    TokenizedSample s;
    s.session_id = std::move(session_id);
    s.turn_id = std::move(turn_id);
    s.task = std::move(task);
    s.session_index = session_index;
    std::vector<TokenRange> ranges;
    enc_.encode(segs, s.input_ids, ranges);
    s.loss_weights.assign(s.input_ids.size(), o_.prompt_loss_weight);
    s.segments.reserve(segs.size());
    for (size_t i = 0; i < segs.size(); ++i) {
      const ChatSegment& g = segs[i];
      SampleSegment out;
      out.role = role_name(g.role);
      out.section = g.section;
      out.text = g.text;
      out.target = g.target;
      out.weight = g.target ? section_weight(g.section) : o_.prompt_loss_weight;
      out.begin = ranges[i].begin;
      out.end = ranges[i].end;
      std::fill(s.loss_weights.begin() + out.begin, s.loss_weights.begin() + out.end, out.weight);
      s.segments.push_back(std::move(out));
    }
    if (!s.loss_weights.empty()) s.loss_weights[0] = 0.0f;
    return s;
  }

  void add(SampleSet& set, TokenizedSample s) {
    stats.samples++;
    stats.tokens += s.size();
    stats.weighted_tokens += s.weighted_tokens();
    for (const auto& g : s.segments)
      if (g.target) stats.target_tokens += g.end - g.begin;
    stats.max_tokens = std::max(stats.max_tokens, s.size());
    if (s.truncated) stats.truncated++;
    stats.samples_per_task[s.task]++;
    set.samples.push_back(std::move(s));
  }

  // Whether turn render `r` can be a target under the policy; counts what it lacks.
  bool usable_target(const TurnRender& r) {
    if (r.empty_response) {
      stats.dropped_empty++;
      return false;
    }
    stats.missing_observation += r.missing_observation;
    stats.missing_reasoning += r.missing_reasoning;
    stats.placeholders += static_cast<size_t>(r.placeholders);
    if (o_.missing == MissingPolicy::DropSample && (r.missing_observation || r.missing_reasoning)) {
      stats.dropped_missing++;
      return false;
    }
    return true;
  }

  void turn_samples(const Session& s, SampleSet& set) {
    std::map<SampleTask, Conversation> cache;
    const size_t limit = static_cast<size_t>(o_.max_seq_len);
    auto blocks_conv = [&](SampleTask task) -> const Conversation& {
      auto it = cache.find(task);
      if (it == cache.end()) it = cache.emplace(task, conversation(s, task)).first;
      return it->second;
    };
    auto pairs = make_blocks(s).size() / 2;
    std::map<SampleTask, size_t> hints;  // history dropped by the previous turn, per rendering
    for (size_t k = 0; k < pairs; ++k) {
      // The turn list is the same for every task; take it from any rendering.
      const Conversation& any = blocks_conv(o_.task == SampleTask::Mix ? SampleTask::Dialog : o_.task);
      for (size_t p = 0; p < any.turn_index[k].size(); ++p) {
        const Turn& turn = s.turns[any.turn_index[k][p]];
        SampleTask task = dialog_task_for(s, turn.id);
        if (!is_dialog_task(task)) continue;
        const Conversation& c = blocks_conv(task);
        if (!usable_target(c.assistant[k][p])) continue;
        size_t first = 0;
        std::optional<TokenizedSample> t =
            is_retrieval_task(task)
                ? rag_fitted_sample(c, k, p, false, s, any.turn_index[k][p], limit, task, first, &hints[task])
                : fitted_sample(k, limit, [&](size_t f) { return turn_messages(c, f, k, p, false); }, s.dialog_id,
                                turn.id, task_name(task), first, &hints[task]);
        if (!t) {
          stats.dropped_too_long++;
          continue;
        }
        t->dropped_history = static_cast<int>(2 * first);
        t->truncated = t->truncated || first > 0;
        add(set, std::move(*t));
      }
    }
  }

  void session_samples(const Session& s, SampleSet& set) {
    SampleTask task = dialog_task_for(s, "");
    if (!is_dialog_task(task)) return;
    Conversation c = conversation(s, task);
    const size_t pairs = c.user.size();
    if (pairs == 0) return;
    // Target flags per turn.
    std::vector<std::vector<bool>> target(pairs);
    size_t any_target = 0;
    for (size_t k = 0; k < pairs; ++k)
      for (const auto& r : c.assistant[k]) {
        bool t = usable_target(r);
        target[k].push_back(t);
        any_target += t;
      }
    if (!any_target) return;
    auto make = [&](size_t first, size_t end) {
      std::vector<ChatMessage> m;
      m.push_back({ChatRole::System, c.system, false});
      for (size_t k = first; k < end; ++k) {
        m.push_back({ChatRole::User, c.user[k], false});
        ChatMessage a{ChatRole::Assistant, {}, false};
        for (size_t p = 0; p < c.assistant[k].size(); ++p)
          for (auto part : c.assistant[k][p].parts) {
            part.target = target[k][p];
            a.parts.push_back(std::move(part));
          }
        m.push_back(std::move(a));
      }
      return m;
    };
    const size_t limit = static_cast<size_t>(o_.max_seq_len);
    TokenizedSample whole = tokenize(make(0, pairs), s.dialog_id, "", task_name(task));
    if (whole.size() <= limit) {
      add(set, std::move(whole));
      return;
    }
    // Consecutive windows that fit.
    size_t start = 0;
    while (start < pairs) {
      if (count(make(start, start + 1)) > limit) {
        stats.dropped_too_long++;
        ++start;
        continue;
      }
      size_t end = start + 1;
      while (end < pairs && count(make(start, end + 1)) <= limit) ++end;
      bool has_target = false;
      for (size_t k = start; k < end; ++k)
        for (bool t : target[k]) has_target |= t;
      if (has_target) {
        TokenizedSample t = tokenize(make(start, end), s.dialog_id, "", task_name(task));
        t.truncated = true;
        t.dropped_history = static_cast<int>(2 * start);
        add(set, std::move(t));
      }
      start = end;
    }
  }

  // A label sample: transcript of turns [0, last] with the answer `labels` as target.
  void label_sample(const Session& s, SampleTask task, size_t last, const std::string& answer, std::string turn_id,
                    SampleSet& set, size_t* hint = nullptr) {
    std::vector<std::string> exclude;
    if (task == SampleTask::Psychotherapy) exclude = {"psychotherapy", "theme"};
    if (task == SampleTask::Topic) exclude = {"topic"};
    std::vector<MessagePart> system = system_parts(s, task, exclude);
    auto make = [&](size_t first) {
      std::vector<ChatMessage> m;
      m.push_back({ChatRole::System, system, false});
      ChatMessage u{ChatRole::User, {}, false};
      for (size_t i = first; i <= last; ++i) {
        const Turn& t = s.turns[i];
        std::string line = marker_prefix(t.is_therapist() ? f_.therapist_label : f_.client_label) + t.content;
        if (i < last) line += "\n";
        u.parts.push_back({line, t.is_therapist() ? "therapist" : "client", false});
      }
      m.push_back(std::move(u));
      m.push_back({ChatRole::Assistant, {{answer, "label", true}}, false});
      return m;
    };
    const size_t limit = static_cast<size_t>(o_.max_seq_len);
    size_t first = 0;
    std::optional<TokenizedSample> t = fitted_sample(last, limit, make, s.dialog_id, turn_id, task_name(task), first, hint);
    if (!t) {
      stats.dropped_too_long++;
      return;
    }
    t->dropped_history = static_cast<int>(first);
    t->truncated = first > 0;
    add(set, std::move(*t));
  }

  void label_samples(const Session& s, SampleSet& set) {
    if (o_.task != SampleTask::Mix || s.turns.empty()) return;
    for (SampleTask task : o_.mix_tasks) {
      if (task == SampleTask::Emotion || task == SampleTask::Strategy) {
        size_t hint = 0;  // turns dropped by the previous label sample
        for (size_t i = 0; i < s.turns.size(); ++i) {
          const Turn& t = s.turns[i];
          const bool wanted = task == SampleTask::Emotion ? t.is_client() : t.is_therapist();
          const auto& labels = task == SampleTask::Emotion ? t.emotion_labels : t.strategies;
          std::string answer = join(labels, ", ");
          if (!wanted || answer.empty() || t.content.empty()) continue;
          label_sample(s, task, i, answer, t.id, set, &hint);
        }
      } else if (task == SampleTask::Psychotherapy || task == SampleTask::Topic) {
        const std::string& answer = task == SampleTask::Psychotherapy ? s.psychotherapy : s.topic;
        if (!answer.empty()) label_sample(s, task, s.turns.size() - 1, answer, "", set);
      }
    }
  }

  // Eval prompts.
  void eval_prompts(const Session& s, size_t limit, std::vector<EvalPrompt>& out) {
    std::map<SampleTask, Conversation> cache;
    auto conv = [&](SampleTask task) -> const Conversation& {
      auto it = cache.find(task);
      if (it == cache.end()) it = cache.emplace(task, conversation(s, task)).first;
      return it->second;
    };
    const size_t pairs = make_blocks(s).size() / 2;
    SampleTask base = o_.task == SampleTask::Mix ? SampleTask::Dialog : o_.task;
    std::map<SampleTask, size_t> hints;  // history dropped by the previous prompt, per rendering
    for (size_t k = 0; k < pairs; ++k) {
      for (size_t p = 0; p < conv(base).turn_index[k].size(); ++p) {
        const Turn& turn = s.turns[conv(base).turn_index[k][p]];
        if (turn.content.empty()) continue;
        SampleTask task = dialog_task_for(s, turn.id);
        if (!is_dialog_task(task)) task = SampleTask::Dialog;  // mix without dialog tasks
        const Conversation& c = conv(task);
        size_t first = 0;
        std::optional<TokenizedSample> t =
            is_retrieval_task(task)
                ? rag_fitted_sample(c, k, p, true, s, conv(base).turn_index[k][p], limit, task, first, &hints[task])
                : fitted_sample(k, limit, [&](size_t f) { return turn_messages(c, f, k, p, true); }, s.dialog_id,
                                turn.id, task_name(task), first, &hints[task]);
        if (!t) {
          stats.dropped_too_long++;
          continue;
        }
        EvalPrompt e;
        e.session_id = s.dialog_id;
        e.turn_id = turn.id;
        e.task = task_name(task);
        e.input_ids = std::move(t->input_ids);
        e.segments = std::move(t->segments);
        e.gold = c.assistant[k][p].gold;
        e.dropped_history = static_cast<int>(2 * first);
        e.retrieved = std::move(t->retrieved);
        out.push_back(std::move(e));
      }
    }
  }

  // The retrieved cases of turn `turn_index` of the current session as system parts (a header,
  // then one part per case, best first), cut to the token budget; `ids` gets their dialog ids.
  std::vector<MessagePart> case_parts(size_t turn_index, SampleTask task, std::vector<std::string>& ids) {
    std::vector<MessagePart> parts;
    ids.clear();
    const auto& per_session = rc_->ranked[session_index];
    if (turn_index >= per_session.size()) return parts;
    const bool explanations = task == SampleTask::RagDialogExplanation;
    const size_t budget = o_.retrieval.max_tokens;
    size_t used = 0;
    for (uint32_t ci : per_session[turn_index]) {
      if (parts.size() >= o_.retrieval.k + 1) break;
      const Session& c = rc_->corpus->at(ci);
      const size_t number = parts.empty() ? 1 : parts.size();
      std::string text = retrieved_case_text(c, number, o_.retrieval, f_, explanations);
      size_t n = tok_.encode(text, false).size();
      if (used + n > budget) {
        const size_t room = budget - used;
        if (room < 8) break;  // too little for a useful case
        text = prefix_within(text, room);
        n = room;
      }
      if (parts.empty()) parts.push_back({retrieved_cases_header(o_.lang), "retrieved", false});
      parts.push_back({text, "retrieved", false});
      ids.push_back(c.dialog_id);
      used += n;
      if (used >= budget) break;
    }
    return parts;
  }

  // The longest prefix of `text` (whole code points) of at most `tokens` tokens.
  std::string prefix_within(const std::string& text, size_t tokens) const {
    std::vector<size_t> cuts;  // code point boundaries
    for (size_t i = 0; i <= text.size(); ++i)
      if (i == text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) cuts.push_back(i);
    size_t lo = 0, hi = cuts.size() - 1;  // cuts[lo] fits
    while (lo < hi) {
      const size_t mid = lo + (hi - lo + 1) / 2;
      if (tok_.encode(std::string_view(text).substr(0, cuts[mid]), false).size() <= tokens) lo = mid;
      else hi = mid - 1;
    }
    return text.substr(0, cuts[lo]);
  }

  // A rag turn: every retrieved case when the sample fits, else fewer (the lowest ranked dropped
  // first), and only without any case does history go (fitted_sample).
  std::optional<TokenizedSample> rag_fitted_sample(const Conversation& c, size_t k, size_t p, bool open,
                                                   const Session& s, size_t turn_index, size_t limit, SampleTask task,
                                                   size_t& first, size_t* hint) {
    std::vector<std::string> ids;
    std::vector<MessagePart> parts = case_parts(turn_index, task, ids);
    const std::string& turn_id = s.turns[turn_index].id;
    first = 0;
    for (size_t n = ids.size(); n > 0; --n) {
      std::vector<MessagePart> kept(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(n + 1));
      TokenizedSample t = tokenize(turn_messages(c, 0, k, p, open, &kept), s.dialog_id, turn_id, task_name(task));
      if (t.size() <= limit) {
        t.retrieved.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n));
        t.truncated = n < ids.size();
        return t;
      }
    }
    auto make = [&](size_t f) { return turn_messages(c, f, k, p, open); };
    std::optional<TokenizedSample> t = fitted_sample(k, limit, make, s.dialog_id, turn_id, task_name(task), first, hint);
    if (t) t->truncated = !ids.empty() || first > 0;
    return t;
  }

  void reset_cache() { enc_.clear_cache(); }

 private:
  const SampleOptions& o_;
  CotFormat f_;
  const Tokenizer& tok_;
  SegmentEncoder enc_;
  const RetrievedCases* rc_ = nullptr;
};

// Rag tasks need cases for exactly these sessions.
void check_retrieved(const std::vector<Session>& sessions, const SampleOptions& o, const RetrievedCases* rc) {
  if (!is_retrieval_task(o.task)) return;
  if (!rc || !rc->corpus)
    throw Error(std::string("data.task ") + task_name(o.task) +
                ": no retrieved cases were given (set data.retrieval_encoder; psy data build, train and eval retrieve "
                "from the training split's index)");
  if (rc->ranked.size() != sessions.size())
    throw Error("retrieved cases: " + expected_found(std::to_string(sessions.size()) + " sessions",
                                                     std::to_string(rc->ranked.size())));
}

}  // namespace

CotFormat sample_format(const SampleOptions& o) {
  CotFormat f = default_cot_format(o.lang);
  add_retrieval_instructions(f);
  apply_format_overrides(f, o.markers);
  if (!o.instruction.empty() && o.task != SampleTask::Mix) f.instructions[task_name(o.task)] = o.instruction;
  return f;
}

SampleSet build_samples(const std::vector<Session>& sessions, const SampleOptions& options, const Tokenizer& tokenizer,
                        const RetrievedCases* retrieved) {
  validate_sample_options(options);
  check_retrieved(sessions, options, retrieved);
  if (!is_dialog_task(options.task) && options.task != SampleTask::Mix)
    throw Error(std::string("data.task: '") + task_name(options.task) +
                "' is a label task; use it inside task mix (data.mix_tasks)");
  SampleSet set;
  Builder b(options, tokenizer, retrieved);
  for (const auto& s : sessions) {
    if (options.unit == SampleUnit::Turn) b.turn_samples(s, set);
    else b.session_samples(s, set);
    b.label_samples(s, set);
    b.reset_cache();  // texts rarely repeat across sessions; keep memory flat
    ++b.session_index;
  }
  b.stats.sessions = sessions.size();
  set.stats = b.stats;
  return set;
}

std::vector<EvalPrompt> build_eval_prompts(const std::vector<Session>& sessions, const SampleOptions& options,
                                           const Tokenizer& tokenizer, int max_prompt_tokens, SampleStats* stats,
                                           const RetrievedCases* retrieved) {
  validate_sample_options(options);
  check_retrieved(sessions, options, retrieved);
  if (!is_dialog_task(options.task) && options.task != SampleTask::Mix)
    throw Error(std::string("data.task: '") + task_name(options.task) + "' is a label task; evaluation needs a dialog task");
  const size_t limit = static_cast<size_t>(max_prompt_tokens > 0 ? max_prompt_tokens : options.max_seq_len);
  std::vector<EvalPrompt> out;
  Builder b(options, tokenizer, retrieved);
  for (const auto& s : sessions) {
    b.eval_prompts(s, limit, out);
    b.reset_cache();
    ++b.session_index;
  }
  if (stats) {
    b.stats.sessions = sessions.size();
    b.stats.samples = out.size();
    *stats = b.stats;
  }
  return out;
}

}  // namespace psy
